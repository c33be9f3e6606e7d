// Renders the served OpenAPI document (GET /api/v1/openapi.json) with the vendored Swagger UI.
window.addEventListener("load", () => {
  window.SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: false,
  });
});
