// Starts ReDoc on the API reference page: the schema URL and the response's nonce (for the
// <style> elements ReDoc writes at run time) come from data attributes, so nothing is inline.
document.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("redoc-container");
  const settings = document.getElementById("redoc-settings");
  const options = settings ? JSON.parse(settings.textContent) : {};
  options.nonce = container.dataset.nonce;
  window.Redoc.init(container.dataset.specUrl, options, container);
});
