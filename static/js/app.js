// Small progressive enhancements; every page works without them.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches("select[data-autosubmit]")) el.form.requestSubmit();
});
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const input = document.querySelector(copy.getAttribute("data-copy"));
    input.select();
    navigator.clipboard?.writeText(input.value);
    copy.textContent = "Copied";
  }
  const toggle = event.target.closest("[data-toggle-sidebar]");
  if (toggle) {
    const open = document.body.classList.toggle("sidebar-open");
    toggle.setAttribute("aria-expanded", String(open));
  }
});

// Autocomplete (aims.autocomplete.AutocompleteSelect): an ARIA combobox whose suggestions htmx
// fetches into the listbox; the chosen id goes into the hidden input the form submits.
const combo = {
  parts(el) {
    const root = el.closest("[data-autocomplete]");
    return root && {
      root,
      input: root.querySelector("[data-autocomplete-input]"),
      value: root.querySelector("[data-autocomplete-value]"),
      list: root.querySelector("[role=listbox]"),
    };
  },
  options(p) { return [...p.list.querySelectorAll("[role=option]:not([aria-disabled=true])")]; },
  open(p) {
    p.list.hidden = false;
    p.input.setAttribute("aria-expanded", "true");
  },
  close(p) {
    p.list.hidden = true;
    p.input.setAttribute("aria-expanded", "false");
    p.input.removeAttribute("aria-activedescendant");
  },
  activate(p, option) {
    for (const o of this.options(p)) o.setAttribute("aria-selected", String(o === option));
    if (option) {
      p.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }
  },
  active(p) { return p.list.querySelector("[role=option][aria-selected=true]"); },
  choose(p, option) {
    p.value.value = option.dataset.value;
    p.value.dataset.label = option.textContent.trim();
    p.input.value = p.value.dataset.label;
    this.close(p);
    p.value.dispatchEvent(new Event("change", { bubbles: true }));
  },
  // Leaving the box keeps what was chosen: an emptied box clears the choice, unfinished text is undone.
  settle(p) {
    if (p.input.value.trim() === "") {
      if (p.value.value !== "") {
        p.value.value = "";
        p.value.dataset.label = "";
        p.value.dispatchEvent(new Event("change", { bubbles: true }));
      }
    } else {
      p.input.value = p.value.dataset.label || "";
    }
    this.close(p);
  },
};
document.addEventListener("htmx:configRequest", (event) => {
  const input = event.detail.elt;
  if (input.matches?.("[data-autocomplete-input]")) event.detail.parameters.q = input.value;
});
document.addEventListener("htmx:afterSwap", (event) => {
  const p = combo.parts(event.detail.target);
  if (!p || event.detail.target !== p.list) return;
  p.list.querySelectorAll("[role=option]").forEach((option, n) => { option.id = `${p.list.id}_${n}`; });
  if (document.activeElement === p.input) combo.open(p);
});
document.addEventListener("keydown", (event) => {
  if (!event.target.matches("[data-autocomplete-input]")) return;
  const p = combo.parts(event.target);
  const options = combo.options(p);
  const current = options.indexOf(combo.active(p));
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    if (p.list.hidden) combo.open(p);
    const step = event.key === "ArrowDown" ? 1 : -1;
    const next = current < 0 ? (step > 0 ? 0 : options.length - 1) : (current + step + options.length) % options.length;
    combo.activate(p, options[next]);
  } else if (event.key === "Enter" && !p.list.hidden) {
    event.preventDefault();  // picking a suggestion does not submit the form
    const option = options[current] || options[0];
    if (option) combo.choose(p, option);
  } else if (event.key === "Escape") {
    if (!p.list.hidden) event.preventDefault();
    combo.settle(p);
  } else if (event.key === "Tab") {
    combo.settle(p);
  }
});
document.addEventListener("mousedown", (event) => {
  const option = event.target.closest?.("[data-autocomplete] [role=option]:not([aria-disabled=true])");
  if (option) {
    event.preventDefault();  // the box keeps the focus
    combo.choose(combo.parts(option), option);
  }
});
document.addEventListener("focusout", (event) => {
  if (event.target.matches?.("[data-autocomplete-input]")) combo.settle(combo.parts(event.target));
});
