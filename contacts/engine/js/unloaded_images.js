// Runs in every frame before the page's own scripts (BrowserContext.add_init_script).
// An image the engine chose not to download (resources.py) would still be drawn: a broken
// image's box, border and icon, rastered into tiles that renderer and GPU process hold for
// as long as the page is open. Until an image has loaded it is drawn fully transparent:
// its box keeps its place (layout, text and screenshots are as before) and it still takes
// clicks (an icon-only link stays a link); once it loads, a CAPTCHA's image for one, it
// shows as usual. A constructed stylesheet: nothing is added to the page's markup.
(() => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync("img:not([data-dc-loaded]) { opacity: 0 !important; }");
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  // On the document: a load event never reaches the window from an element.
  document.addEventListener("load", (event) => {
    if (event.target instanceof HTMLImageElement) event.target.setAttribute("data-dc-loaded", "");
  }, true);
})();
