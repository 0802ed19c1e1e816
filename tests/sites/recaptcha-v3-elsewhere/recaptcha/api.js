window.grecaptcha={ready:function(f){f()},execute:function(){return Promise.resolve('tok')}};
