// Starts Swagger UI on /docs (a file of its own: the site's policy allows no inline script).
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  if (typeof window.SwaggerUIBundle !== "function") return;
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
  });
});
