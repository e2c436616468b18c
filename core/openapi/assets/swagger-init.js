// Spikard: starts Swagger UI on the page's #swagger-ui element, reading the
// document's URL from its data-url attribute. A file of its own rather than
// an inline script, so that the page's Content-Security-Policy can allow
// scripts from the app only.
window.addEventListener('load', function () {
  var root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: root.getAttribute('data-url'),
    dom_id: '#swagger-ui',
    deepLinking: true,
    // The online validator badge would call validator.swagger.io.
    validatorUrl: null,
  });
});
