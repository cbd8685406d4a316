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
// AutocompleteSelectMultiple (data-autocomplete-multiple) uses the same combobox to add chips,
// each a button that removes it beside a hidden input under the field's name.
const combo = {
  parts(el) {
    const root = el.closest("[data-autocomplete]");
    return root && {
      root,
      input: root.querySelector("[data-autocomplete-input]"),
      value: root.querySelector("[data-autocomplete-value]"),
      list: root.querySelector("[role=listbox]"),
      multiple: root.hasAttribute("data-autocomplete-multiple"),
      chips: root.querySelector("[data-autocomplete-chips]"),
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
    if (p.multiple) {
      chips.add(p, option.dataset.value, option.textContent.trim());
      chips.hideChosen(p);  // the list opens again as it is, until the next search replaces it
      p.input.value = "";
      this.close(p);
      return;
    }
    p.value.value = option.dataset.value;
    p.value.dataset.label = option.textContent.trim();
    p.input.value = p.value.dataset.label;
    this.close(p);
    p.value.dispatchEvent(new Event("change", { bubbles: true }));
  },
  // Leaving the box keeps what was chosen: an emptied box clears the choice, unfinished text is undone.
  settle(p) {
    if (p.multiple) {
      p.input.value = "";
    } else if (p.input.value.trim() === "") {
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
  if (p.multiple) chips.hideChosen(p);
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
  } else if (p.multiple && (event.key === "Backspace" || event.key === "ArrowLeft") && p.input.selectionStart === 0
             && p.input.selectionEnd === 0) {
    const last = chips.buttons(p).at(-1);  // from the start of the box, back to the chips
    if (last) {
      event.preventDefault();
      combo.settle(p);
      last.focus();
    }
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

// The chips of an AutocompleteSelectMultiple: Backspace or Delete (or a click) removes one, the
// arrows move between them and back to the search box.
const chips = {
  buttons(p) { return [...p.chips.querySelectorAll("[data-autocomplete-chip]")]; },
  chosen(p) { return new Set(this.buttons(p).map((b) => b.dataset.value)); },
  announce(p, text) { p.root.querySelector("[data-autocomplete-status]").textContent = text; },
  add(p, value, label) {
    if (this.chosen(p).has(value)) return;
    const item = document.createElement("li");
    item.className = "autocomplete-chip";
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = p.root.dataset.name;
    hidden.value = value;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "autocomplete-chip-remove";
    button.dataset.autocompleteChip = "";
    button.dataset.value = value;
    button.setAttribute("aria-label", `Remove ${label}`);
    const cross = document.createElement("span");
    cross.setAttribute("aria-hidden", "true");
    cross.textContent = "×";
    button.append(`${label} `, cross);
    item.append(hidden, button);
    p.chips.append(item);
    this.announce(p, `Added ${label}.`);
    p.root.dispatchEvent(new Event("change", { bubbles: true }));
  },
  remove(p, button) {
    const buttons = this.buttons(p);
    const at = buttons.indexOf(button);
    const next = buttons[at + 1] || buttons[at - 1] || p.input;
    const label = button.getAttribute("aria-label").replace(/^Remove /, "");
    button.closest(".autocomplete-chip").remove();
    next.focus();
    this.announce(p, `Removed ${label}.`);
    p.root.dispatchEvent(new Event("change", { bubbles: true }));
  },
  // Suggestions already chosen are left out of the list.
  hideChosen(p) {
    const chosen = this.chosen(p);
    const offered = [...p.list.querySelectorAll("[role=option]:not([aria-disabled=true])")];
    const taken = offered.filter((option) => chosen.has(option.dataset.value));
    for (const option of taken) option.remove();
    if (offered.length && taken.length === offered.length) {
      const empty = document.createElement("li");
      empty.className = "autocomplete-empty";
      empty.setAttribute("role", "option");
      empty.setAttribute("aria-disabled", "true");
      empty.setAttribute("aria-selected", "false");
      empty.textContent = "Every match is chosen already.";
      p.list.append(empty);
    }
  },
};
document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-autocomplete-chip]");
  if (button) chips.remove(combo.parts(button), button);
});
document.addEventListener("keydown", (event) => {
  const button = event.target.closest?.("[data-autocomplete-chip]");
  if (!button) return;
  const p = combo.parts(button);
  const buttons = chips.buttons(p);
  const at = buttons.indexOf(button);
  if (event.key === "Backspace" || event.key === "Delete") {
    event.preventDefault();
    chips.remove(p, button);
  } else if (event.key === "ArrowLeft" && at > 0) {
    event.preventDefault();
    buttons[at - 1].focus();
  } else if (event.key === "ArrowRight") {
    event.preventDefault();
    (buttons[at + 1] || p.input).focus();
  }
});

// Inline editors (a row swapped for its form, as in the SoA): the focus moves into the form
// when it opens, Escape cancels, and after a save or a cancel the focus returns to the row's
// Edit button, so a keyboard user never falls back to the top of the page.
document.addEventListener("htmx:afterSettle", (event) => {
  // The row of the request that settled (another request, such as a header count, may settle
  // in between): its element is detached by now, but still knows which row it was in.
  const source = event.detail.requestConfig?.elt || event.detail.elt;
  const before = source?.closest?.("[data-inline-row]");
  const row = before && document.getElementById(before.id);
  if (!row) return;
  const editor = row.querySelector("[data-inline-editor]");
  if (editor) {
    const field = editor.querySelector("[aria-invalid=true]")
      || editor.querySelector("input:not([type=hidden]), select, textarea");
    (field || editor.querySelector("button")).focus();
  } else {
    row.querySelector("[data-inline-edit]")?.focus();
  }
});
document.addEventListener("keydown", (event) => {
  // An open suggestion list takes the Escape first (its handler prevents the default).
  if (event.key !== "Escape" || event.defaultPrevented) return;
  const editor = event.target.closest?.("[data-inline-editor]");
  if (!editor) return;
  event.preventDefault();
  editor.querySelector("[data-inline-cancel]")?.click();
});

// A long list of checkboxes (components/_field.html) gets a box that narrows it as one types.
const CHOICES_TO_FILTER = 12;
document.querySelectorAll(".field-choices").forEach((group) => {
  const labels = [...group.querySelectorAll("div[id] label")];
  if (labels.length <= CHOICES_TO_FILTER) return;
  const filter = document.createElement("input");
  filter.type = "search";
  filter.className = "choice-filter";
  filter.setAttribute("aria-label", `Filter: ${group.querySelector("legend").textContent.replace("*", "").trim()}`);
  filter.placeholder = "Type to filter…";
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault();  // narrowing the list does not submit the form
  });
  filter.addEventListener("input", () => {
    const words = filter.value.trim().toLowerCase();
    labels.forEach((label) => { label.hidden = words !== "" && !label.textContent.toLowerCase().includes(words); });
  });
  group.querySelector("legend").after(filter);
});

// The evidence form offers the input its kind needs: the file, the link, or the note (a note
// may also describe a file or a link). Without the script every input shows, as the help says.
const EVIDENCE_INPUTS = { file: ["file", "note"], link: ["url", "note"], note: ["note"] };
document.querySelectorAll("form[data-evidence-form]").forEach((form) => {
  const kinds = form.querySelectorAll("input[name=kind]");
  if (!kinds.length) return;
  const show = () => {
    const kind = form.querySelector("input[name=kind]:checked")?.value || "file";
    form.querySelectorAll("[data-evidence-content]").forEach((field) => {
      field.hidden = !EVIDENCE_INPUTS[kind].includes(field.dataset.evidenceContent);
    });
    const help = form.querySelector("[data-kind-help]");
    if (help) help.hidden = true;
  };
  kinds.forEach((radio) => radio.addEventListener("change", show));
  show();
});

// A field that only one choice of another needs (data-shown-when="scope=system") shows only
// while that choice is made; without the script it always shows, and its help says when it counts.
document.querySelectorAll("[data-shown-when]").forEach((input) => {
  const [name, wanted] = input.dataset.shownWhen.split("=");
  const form = input.form || input.closest("form");
  const field = input.closest(".field");
  if (!form || !field) return;
  const update = () => {
    const chosen = form.querySelector(`[name="${name}"]:checked`) || form.querySelector(`select[name="${name}"]`);
    field.hidden = (chosen ? chosen.value : "") !== wanted;
  };
  form.querySelectorAll(`[name="${name}"]`).forEach((control) => control.addEventListener("change", update));
  update();
});

// "/" anywhere but in a field puts the cursor in the header's search box.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest?.("input, textarea, select, [contenteditable=true]")) return;
  const box = document.querySelector("[data-site-search]");
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});
