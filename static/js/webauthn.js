// Security keys and passkeys: ask the browser to create or use a credential, then submit the form.
// A button says what to do (data-webauthn="create" or "get"), which <script type="application/json">
// holds the server's options (data-webauthn-options) and which hidden input receives the answer
// (data-webauthn-credential). Needs window.webauthnJSON (allauth's webauthn-json.js).
(() => {
  function options(button) {
    const data = document.getElementById(button.dataset.webauthnOptions);
    return JSON.parse(data.textContent);
  }

  function showError(button, error) {
    const box = document.getElementById(button.dataset.webauthnError);
    if (!box) return;
    box.hidden = false;
    box.textContent =
      error && error.name === "NotAllowedError"
        ? "The security key did not answer, or the request was cancelled. Try again."
        : "This browser could not use the security key" + (error && error.message ? ": " + error.message : ".");
  }

  async function create(button) {
    const creation = JSON.parse(JSON.stringify(options(button).creation_options));
    const passwordless = button.dataset.webauthnPasswordless
      ? document.getElementById(button.dataset.webauthnPasswordless)
      : null;
    if (passwordless) {
      const selection = creation.publicKey.authenticatorSelection;
      selection.residentKey = passwordless.checked ? "required" : "discouraged";
      selection.requireResidentKey = passwordless.checked;
      if (passwordless.checked) selection.userVerification = "required";
    }
    return window.webauthnJSON.create(creation);
  }

  async function get(button) {
    return window.webauthnJSON.get(options(button).request_options);
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-webauthn]");
    if (!button) return;
    event.preventDefault();
    const input = document.getElementById(button.dataset.webauthnCredential);
    button.disabled = true;
    try {
      const credential = button.dataset.webauthn === "create" ? await create(button) : await get(button);
      input.value = JSON.stringify(credential);
      input.form.submit();
    } catch (error) {
      showError(button, error);
      button.disabled = false;
    }
  });
})();
