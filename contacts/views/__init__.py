"""Views, one module per area: accounts, profiles, searches (results, contacting, attempts) and live (SSE)."""
