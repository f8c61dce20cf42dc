/* The template design page: a components editor over the CAMS Components array, the live
 * preview (preview.js) and the live check (POST to the page's validate URL, which runs
 * camsconsole/cams/rules). What may be offered comes from the server's palette (#palette), so
 * the editor never invents a rule; errors come back with the path of the field at fault and are
 * shown next to it (every input carries data-path, every error slot data-error-for).
 */
(function () {
  "use strict";

  const palette = JSON.parse(document.getElementById("palette").textContent);
  const initial = JSON.parse(document.getElementById("design-state").textContent);
  const form = document.getElementById("design-form");
  const editor = document.getElementById("editor");
  const adder = document.getElementById("add-component");
  const samples = document.getElementById("samples");
  const sampleFields = document.getElementById("sample-fields");
  const previewBox = document.getElementById("preview");
  const summary = document.getElementById("check-summary");
  const otherErrors = document.getElementById("other-errors");
  const submitButton = document.getElementById("submit-button");
  const componentsInput = form.elements.components;
  const exampleInput = form.elements.example;
  const channel = form.elements.channel;
  const category = form.elements.category;

  const ORDER = ["HEADER", "BODY", "FOOTER", "BUTTONS", "CAROUSEL", "LIMITED_TIME_OFFER"];
  const TITLES = {
    HEADER: "Header", BODY: "Body", FOOTER: "Footer", BUTTONS: "Buttons",
    CAROUSEL: "Carousel cards", LIMITED_TIME_OFFER: "Limited-time offer",
  };
  const BUTTON_PREFERENCE = ["QUICK_REPLY", "URL", "COPY_CODE", "PHONE_NUMBER"];
  const VARIABLE = /\{\{(\d+)\}\}/g;

  const state = {
    components: Array.isArray(initial.components) ? initial.components : [],
    example: initial.example || {},
  };
  let errors = initial.errors || [];
  let shownVariables = "";

  // -- what is allowed now ---------------------------------------------------------------

  function kind() {
    const option = channel.selectedOptions[0];
    return (option && option.dataset.kind) || "WHATSAPP";
  }

  function rules() {
    const kinds = palette.kinds[kind()];
    return kinds[category.value] || kinds.MARKETING;
  }

  function names(spec) {
    return spec ? spec.required.concat(spec.optional) : [];
  }

  function visible(fieldNames, item) {
    return fieldNames.filter((name) => name !== "NavigateScreen" || item.FlowAction === "NAVIGATE");
  }

  // -- DOM helpers -------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-") || key.startsWith("aria-")) node.setAttribute(key, value);
      else node[key] = value;
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  function button(text, label, action, css) {
    const node = el("button", { type: "button", class: "btn " + (css || "btn-outline-secondary"), text: text, title: label, "aria-label": label });
    node.addEventListener("click", action);
    return node;
  }

  function slot(path) {
    return el("div", { class: "invalid-feedback d-block", "data-error-for": path });
  }

  function tools(list, index) {
    const group = el("div", { class: "btn-group btn-group-sm" });
    const up = button("↑", "Move up", () => { move(list, index, -1); });
    const down = button("↓", "Move down", () => { move(list, index, 1); });
    up.disabled = index === 0;
    down.disabled = index === list.length - 1;
    group.append(up, down, button("✕", "Remove", () => { list.splice(index, 1); update(true); }, "btn-outline-danger"));
    return group;
  }

  function move(list, index, step) {
    const [item] = list.splice(index, 1);
    list.splice(index + step, 0, item);
    update(true);
  }

  // -- fields ------------------------------------------------------------------------------

  function field(item, name, path, options) {
    const opts = options || {};
    const label = palette.labels[name] || name;
    const widget = palette.widgets[name] || "text";
    const fieldPath = path + "." + name;
    const box = el("div", { class: "mb-2" });
    const id = "f-" + fieldPath.replace(/[^A-Za-z0-9]/g, "-");
    if (widget === "apps") {
      box.append(el("div", { class: "form-label small mb-0", text: label }), apps(item, fieldPath), slot(fieldPath));
      return box;
    }
    let input;
    if (widget === "checkbox") {
      input = el("input", { type: "checkbox", class: "form-check-input", id: id, checked: !!item[name], "data-path": fieldPath });
      input.addEventListener("change", () => { item[name] = input.checked; update(false); });
      box.append(el("div", { class: "form-check" }, input, el("label", { class: "form-check-label small", htmlFor: id, text: label })), slot(fieldPath));
      return box;
    }
    if (widget === "select") {
      input = el("select", { class: "form-select form-select-sm", id: id, "data-path": fieldPath });
      if (!opts.required) input.append(el("option", { value: "", text: "—" }));
      for (const choice of palette.choices[name] || []) input.append(el("option", { value: choice, text: choice }));
      input.value = item[name] || "";
      input.addEventListener("change", () => { item[name] = input.value; update(name === "FlowAction"); });
    } else {
      const multiline = opts.rows > 1;
      input = el(multiline ? "textarea" : "input", {
        class: "form-control form-control-sm", id: id, "data-path": fieldPath,
        value: item[name] === undefined || item[name] === null ? "" : String(item[name]),
      });
      if (multiline) input.rows = opts.rows;
      else input.type = widget === "number" ? "number" : "text";
      const counter = opts.max ? el("div", { class: "form-text tp-counter" }) : null;
      const count = () => {
        if (!counter) return;
        counter.textContent = input.value.length + " / " + opts.max;
        counter.classList.toggle("text-danger", input.value.length > opts.max);
      };
      input.addEventListener("input", () => { item[name] = input.value; count(); update(false); });
      count();
      box.append(el("label", { class: "form-label small mb-0", htmlFor: id, text: label + (opts.required ? " *" : "") }), input);
      if (counter) box.append(counter);
      box.append(slot(fieldPath));
      if (opts.variables) box.append(variableButton(input, item, name));
      return box;
    }
    box.append(el("label", { class: "form-label small mb-0", htmlFor: id, text: label + (opts.required ? " *" : "") }), input, slot(fieldPath));
    return box;
  }

  function fields(item, spec, path, extra) {
    const found = [];
    for (const name of visible(names(spec), item)) {
      const options = Object.assign({ required: spec.required.includes(name) }, (extra || {})[name]);
      found.push(field(item, name, path, options));
    }
    return found;
  }

  function variableButton(input, item, name) {
    return button("+ variable", "Insert the next variable at the cursor", () => {
      // Each text numbers its own variables from {{1}}.
      const used = [...input.value.matchAll(VARIABLE)].map((m) => Number(m[1]));
      const token = "{{" + (Math.max(0, ...used) + 1) + "}}";
      input.setRangeText(token, input.selectionStart, input.selectionEnd, "end");
      item[name] = input.value;
      input.focus();
      update(false);
    }, "btn-sm btn-link px-0");
  }

  function apps(item, path) {
    const list = (item.SupportedApps = Array.isArray(item.SupportedApps) ? item.SupportedApps : []);
    const box = el("div", {});
    list.forEach((app, index) => {
      const row = el("div", { class: "d-flex gap-2 align-items-start" });
      for (const name of ["PackageName", "SignatureHash"]) {
        const cell = el("div", { class: "flex-grow-1" });
        const input = el("input", { class: "form-control form-control-sm", placeholder: name, value: app[name] || "", "data-path": path + "[" + index + "]." + name, "aria-label": name });
        input.addEventListener("input", () => { app[name] = input.value; update(false); });
        cell.append(input, slot(path + "[" + index + "]." + name));
        row.append(cell);
      }
      row.append(button("✕", "Remove app", () => { list.splice(index, 1); update(true); }, "btn-sm btn-outline-danger"));
      box.append(row);
    });
    box.append(button("+ app", "Add a supported app", () => { list.push({}); update(true); }, "btn-sm btn-link px-0"));
    return box;
  }

  function select(item, name, choices, path, structural) {
    const id = "f-" + (path + "." + name).replace(/[^A-Za-z0-9]/g, "-");
    const input = el("select", { class: "form-select form-select-sm", id: id, "data-path": path + "." + name });
    const options = choices.includes(item[name]) || !item[name] ? choices : [item[name]].concat(choices);
    for (const choice of options) input.append(el("option", { value: choice, text: choice.replace(/_/g, " ") }));
    input.value = item[name];
    input.addEventListener("change", () => {
      item[name] = input.value;
      if (name === "Type" && input.value === "URL" && !item.UrlType) item.UrlType = "static";
      update(structural);
    });
    return el("div", { class: "mb-2" }, el("label", { class: "form-label small mb-0", htmlFor: id, text: name === "Type" ? "Type" : "Format" }), input, slot(path + "." + name));
  }

  // -- components --------------------------------------------------------------------------

  function newButton(specs) {
    const type = BUTTON_PREFERENCE.find((t) => t in specs) || Object.keys(specs)[0];
    const made = { Type: type, Text: type === "COPY_CODE" && category.value === "AUTHENTICATION" ? "Copy code" : "" };
    if (type === "URL") made.UrlType = "static";
    return made;
  }

  function buttonsEditor(owner, path, specs, max) {
    const list = (owner.Buttons = Array.isArray(owner.Buttons) ? owner.Buttons : []);
    const box = el("div", {});
    list.forEach((item, index) => {
      const itemPath = path + ".Buttons[" + index + "]";
      if (!item.Type) item.Type = Object.keys(specs)[0];
      const card = el("div", { class: "border rounded p-2 mb-2 tp-button-editor" });
      card.append(
        el("div", { class: "d-flex justify-content-between align-items-start gap-2" },
          el("div", { class: "flex-grow-1" }, select(item, "Type", Object.keys(specs), itemPath, true)),
          tools(list, index)),
        ...fields(item, specs[item.Type] || { required: [], optional: [] }, itemPath),
        slot(itemPath));
      box.append(card);
    });
    const add = button("+ button", "Add a button", () => { list.push(newButton(specs)); update(true); }, "btn-sm btn-outline-primary");
    add.disabled = list.length >= max;
    box.append(el("div", { class: "d-flex gap-2 align-items-center" }, add, el("span", { class: "small text-muted", text: list.length + " of at most " + max })), slot(path + ".Buttons"));
    return box;
  }

  function cardParts(card) {
    const parts = {};
    for (const part of card.CardComponents || []) if (part && part.Type && !parts[part.Type]) parts[part.Type] = part;
    // Fixed positions (HEADER, BODY, BUTTONS), so error paths stay put; BUTTONS, last, is
    // left out when empty.
    card.CardComponents = [
      parts.HEADER || { Type: "HEADER", Format: palette.card.header_formats[0] },
      parts.BODY || { Type: "BODY" },
      parts.BUTTONS || { Type: "BUTTONS", Buttons: [] },
    ];
    return card.CardComponents;
  }

  function cardsEditor(component, path) {
    const cards = (component.Cards = Array.isArray(component.Cards) ? component.Cards : []);
    const box = el("div", {});
    cards.forEach((card, index) => {
      const cardPath = path + ".Cards[" + index + "]";
      const [header, body, buttons] = cardParts(card);
      const parts = cardPath + ".CardComponents";
      box.append(el("div", { class: "border rounded p-2 mb-2" },
        el("div", { class: "d-flex justify-content-between" }, el("strong", { class: "small", text: "Card " + (index + 1) }), tools(cards, index)),
        select(header, "Format", palette.card.header_formats, parts + "[0]", false),
        field(header, "Url", parts + "[0]", { required: true }),
        field(body, "Text", parts + "[1]", { required: true, rows: 2 }),
        buttonsEditor(buttons, parts + "[2]", palette.card.buttons, palette.card.buttons_max),
        slot(cardPath)));
    });
    const add = button("+ card", "Add a card", () => { cards.push({}); update(true); }, "btn-sm btn-outline-primary");
    add.disabled = cards.length >= palette.card.cards_max;
    box.append(add, slot(path + ".Cards"));
    return box;
  }

  function componentBody(component, path) {
    const allowed = rules();
    switch (component.Type) {
      case "HEADER": {
        const formats = Object.keys(allowed.header);
        if (!component.Format) component.Format = ["TEXT", "IMAGE"].find((f) => formats.includes(f)) || formats[0];
        return [select(component, "Format", formats, path, true)].concat(
          fields(component, allowed.header[component.Format], path, { Text: { max: allowed.header_max } }));
      }
      case "BODY":
        return fields(component, allowed.fields.BODY, path, { Text: { rows: 4, max: allowed.body_max, variables: true } });
      case "FOOTER":
        return fields(component, allowed.fields.FOOTER, path, { Text: { max: allowed.footer_max } });
      case "LIMITED_TIME_OFFER":
        return fields(component, allowed.fields.LIMITED_TIME_OFFER, path);
      case "BUTTONS":
        return [buttonsEditor(component, path, allowed.buttons, allowed.buttons_max)];
      case "CAROUSEL":
        return [cardsEditor(component, path)];
      default:
        return [];
    }
  }

  function componentCard(component, index) {
    const path = "Components[" + index + "]";
    return el("div", { class: "card mb-2 tp-component", "data-type": component.Type || "" },
      el("div", { class: "card-header d-flex align-items-center gap-2 py-1" },
        el("strong", { class: "small me-auto", text: TITLES[component.Type] || component.Type }),
        tools(state.components, index)),
      el("div", { class: "card-body py-2" }, ...componentBody(component, path)),
      el("div", { class: "px-3 pb-1" }, slot(path + ".Type"), slot(path)));
  }

  function addComponent(type) {
    const made = { Type: type };
    if (type === "BUTTONS") made.Buttons = [newButton(rules().buttons)];
    if (type === "CAROUSEL") made.Cards = [{}, {}];
    const rank = ORDER.indexOf(type);
    let at = state.components.findIndex((c) => ORDER.indexOf(c.Type) > rank);
    if (at < 0) at = state.components.length;
    state.components.splice(at, 0, made);
    update(true);
  }

  /* Authentication templates have a fixed shape (reference §4.5): no header, text written by
   * WhatsApp, exactly one COPY_CODE or ONE_TAP button. Applied when the category is chosen. */
  function shapeAuthentication() {
    const allowed = rules();
    const kept = state.components.filter((c) => allowed.components.includes(c.Type));
    for (const type of allowed.components) if (!kept.some((c) => c.Type === type)) kept.push({ Type: type });
    kept.sort((a, b) => ORDER.indexOf(a.Type) - ORDER.indexOf(b.Type));
    const buttons = kept.find((c) => c.Type === "BUTTONS");
    const usable = (buttons.Buttons || []).filter((b) => b.Type in allowed.buttons);
    buttons.Buttons = usable.length ? [usable[0]] : [newButton(allowed.buttons)];
    const body = kept.find((c) => c.Type === "BODY");
    if (body.AddSecretRecommendation === undefined) body.AddSecretRecommendation = true;
    const footer = kept.find((c) => c.Type === "FOOTER");
    if (!footer.CodeExpirationMinutes) footer.CodeExpirationMinutes = 10;
    state.components = kept;
  }

  // -- serialising -------------------------------------------------------------------------

  function pick(item, fieldNames) {
    const out = {};
    for (const name of fieldNames) {
      const value = item[name];
      if (value === undefined || value === null || value === "" || value === false) continue;
      if (Array.isArray(value) && !value.length) continue;
      out[name] = name === "SupportedApps" ? value.map((app) => pick(app, ["PackageName", "SignatureHash"])) : value;
    }
    return out;
  }

  function cleanButton(item, specs) {
    const spec = specs[item.Type];
    const fieldNames = spec ? visible(names(spec), item) : Object.keys(item).filter((k) => k !== "Type");
    return Object.assign({ Type: item.Type }, pick(item, fieldNames));
  }

  function cleanComponent(component) {
    const allowed = rules();
    const type = component.Type;
    if (type === "HEADER") {
      return Object.assign({ Type: type, Format: component.Format }, pick(component, names(allowed.header[component.Format])));
    }
    if (type === "BUTTONS") {
      return { Type: type, Buttons: (component.Buttons || []).map((b) => cleanButton(b, allowed.buttons)) };
    }
    if (type === "CAROUSEL") {
      return {
        Type: type,
        Cards: (component.Cards || []).map((card) => {
          const [header, body, buttons] = cardParts(card);
          const parts = [pick(header, ["Type", "Format", "Url"]), pick(body, ["Type", "Text"])];
          if ((buttons.Buttons || []).length) {
            parts.push({ Type: "BUTTONS", Buttons: buttons.Buttons.map((b) => cleanButton(b, palette.card.buttons)) });
          }
          return { CardComponents: parts };
        }),
      };
    }
    if (allowed.fields[type]) return Object.assign({ Type: type }, pick(component, names(allowed.fields[type])));
    return Object.assign({}, component);
  }

  function variablesOf(components) {
    const numbers = new Set();
    for (const component of components) {
      if ((component.Type === "HEADER" || component.Type === "BODY") && component.Text) {
        for (const match of String(component.Text).matchAll(VARIABLE)) numbers.add(Number(match[1]));
      }
    }
    return [...numbers].sort((a, b) => a - b);
  }

  function serialize() {
    const components = state.components.map(cleanComponent);
    const numbers = variablesOf(components);
    const example = {};
    for (const number of numbers) {
      const sample = String(state.example[number] || "").trim();
      if (sample) example[number] = sample;
    }
    componentsInput.value = JSON.stringify(components);
    exampleInput.value = JSON.stringify(example);
    return { components: components, example: example, numbers: numbers };
  }

  // -- rendering ---------------------------------------------------------------------------

  function renderEditor() {
    editor.replaceChildren(...state.components.map(componentCard));
    const present = new Set(state.components.map((c) => c.Type));
    adder.replaceChildren(...rules().components.filter((type) => !present.has(type)).map((type) =>
      button("+ " + TITLES[type].toLowerCase(), "Add a " + TITLES[type].toLowerCase() + " component", () => addComponent(type), "btn-sm btn-outline-primary")));
    const ttl = form.querySelector(".tp-ttl");
    if (ttl) ttl.hidden = !rules().ttl;
    document.getElementById("category-note").hidden = !(kind() === "WHATSAPP" && category.value === "AUTHENTICATION");
    shownVariables = "";
  }

  function renderSamples(numbers) {
    const key = numbers.join(",");
    if (key === shownVariables) return;
    shownVariables = key;
    samples.hidden = !numbers.length;
    sampleFields.replaceChildren(...numbers.map((number) => {
      const path = "Example." + number;
      const id = "sample-" + number;
      const input = el("input", { class: "form-control form-control-sm", id: id, value: state.example[number] || "", "data-path": path, placeholder: "Required for review" });
      input.addEventListener("input", () => { state.example[number] = input.value; update(false); });
      return el("div", { class: "row g-2 align-items-start mb-2" },
        el("label", { class: "col-3 col-form-label col-form-label-sm mono", htmlFor: id, text: "{{" + number + "}}" }),
        el("div", { class: "col-9" }, input, slot(path)));
    }));
  }

  function update(structural) {
    if (structural) renderEditor();
    const model = serialize();
    renderSamples(model.numbers);
    window.CamsPreview.render(previewBox, { kind: kind(), category: category.value, components: model.components, example: model.example });
    showErrors(errors);
    scheduleCheck();
  }

  // -- the live check ----------------------------------------------------------------------

  function slotFor(path) {
    let current = path;
    while (current) {
      const found = form.querySelector('[data-error-for="' + CSS.escape(current) + '"]');
      if (found) return found;
      const cut = Math.max(current.lastIndexOf("."), current.lastIndexOf("["));
      if (cut <= 0) return null;
      current = current.slice(0, cut);
    }
    return null;
  }

  function showErrors(list) {
    form.querySelectorAll("[data-error-for]").forEach((node) => { node.textContent = ""; });
    form.querySelectorAll(".is-invalid").forEach((node) => node.classList.remove("is-invalid"));
    const leftover = [];
    for (const error of list) {
      const target = error.field ? slotFor(error.field) : null;
      if (target) target.textContent = (target.textContent ? target.textContent + " " : "") + error.message;
      else leftover.push(error);
      const input = error.field && form.querySelector('[data-path="' + CSS.escape(error.field) + '"]');
      if (input) input.classList.add("is-invalid");
    }
    otherErrors.hidden = !leftover.length;
    otherErrors.querySelector("ul").replaceChildren(...leftover.map((e) => el("li", { text: e.message })));
  }

  let timer = null;
  let sequence = 0;

  function scheduleCheck() {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  }

  async function check() {
    const mine = ++sequence;
    summary.textContent = "Checking…";
    let answer;
    try {
      const response = await fetch(form.dataset.validateUrl, { method: "POST", body: new FormData(form), credentials: "same-origin" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      answer = await response.json();
    } catch (failure) {
      if (mine === sequence) summary.textContent = "Could not check the template just now.";
      return;
    }
    if (mine !== sequence) return; // a newer check is on its way
    errors = answer.errors;
    showErrors(errors);
    submitButton.disabled = !answer.valid;
    const count = errors.length;
    summary.textContent = answer.valid ? "Ready to submit." : count + " problem" + (count === 1 ? "" : "s") + " to fix before submitting.";
    form.dataset.checked = String(mine);
  }

  channel.addEventListener("change", () => update(true));
  category.addEventListener("change", () => {
    if (kind() === "WHATSAPP" && category.value === "AUTHENTICATION") shapeAuthentication();
    update(true);
  });
  form.addEventListener("input", (event) => {
    if (event.target.closest("#editor, #samples")) return; // handled by their own listeners
    scheduleCheck();
  });
  form.addEventListener("submit", () => { serialize(); });

  if (!state.components.length) state.components.push({ Type: "BODY" });
  update(true);
})();
