/* The live template preview: the browser twin of templates_app/preview.py (keep them alike).
 *
 * Everything is built with createElement and text nodes; nothing the operator types is ever
 * parsed as HTML. WhatsApp markup becomes flat runs of text with style flags, wrapped in
 * <code>/<strong>/<em>/<s> elements made here.
 */
(function () {
  "use strict";

  const MONO = /```([\s\S]+?)```/g;
  const STYLED = /(?<![\p{L}\p{N}_*~])([*_~])(?=\S)(.+?)(?<=\S)\1(?![\p{L}\p{N}_])/gu;
  const STYLES = { "*": "bold", "_": "italic", "~": "strike" };
  const ICONS = {
    URL: "↗", PHONE_NUMBER: "✆", QUICK_REPLY: "↩", COPY_CODE: "⧉", ONE_TAP: "⧉",
    ZERO_TAP: "⧉", FLOW: "☰", MPM: "☰", CATALOG: "☰",
  };
  const DEFAULT_TEXT = { COPY_CODE: "Copy code", CATALOG: "View catalog", MPM: "View items" };
  const AUTH_BODY = "{{1}} is your verification code.";
  const AUTH_SECRET = " For your security, do not share this code.";

  function fill(text, samples) {
    return String(text || "").replace(/\{\{(\d+)\}\}/g, (all, n) => (samples && samples[n]) || all);
  }

  function styled(text, styles, out) {
    let position = 0;
    for (const match of text.matchAll(STYLED)) {
      if (match.index > position) out.push({ text: text.slice(position, match.index), styles });
      styled(match[2], new Set([...styles, STYLES[match[1]]]), out);
      position = match.index + match[0].length;
    }
    if (position < text.length) out.push({ text: text.slice(position), styles });
    return out;
  }

  function runs(text) {
    const out = [];
    let position = 0;
    for (const match of text.matchAll(MONO)) {
      styled(text.slice(position, match.index), new Set(), out);
      out.push({ text: match[1], styles: new Set(["mono"]) });
      position = match.index + match[0].length;
    }
    return styled(text.slice(position), new Set(), out);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function appendText(parent, text) {
    String(text).split("\n").forEach((line, index) => {
      if (index) parent.appendChild(document.createElement("br"));
      parent.appendChild(document.createTextNode(line));
    });
  }

  function appendRuns(parent, text) {
    for (const run of runs(text)) {
      let outer = null;
      let inner = null;
      for (const [style, tag] of [["mono", "code"], ["bold", "strong"], ["italic", "em"], ["strike", "s"]]) {
        if (!run.styles.has(style)) continue;
        const node = document.createElement(tag);
        if (inner) inner.appendChild(node); else outer = node;
        inner = node;
      }
      appendText(inner || parent, run.text);
      if (outer) parent.appendChild(outer);
    }
  }

  function byType(components) {
    const found = {};
    for (const c of components || []) if (c && c.Type && !found[c.Type]) found[c.Type] = c;
    return found;
  }

  function media(format, url, name) {
    const box = el("div", "tp-media", (format || "IMAGE").charAt(0) + (format || "IMAGE").slice(1).toLowerCase());
    if (name) box.append(": " + name);
    else if (url) box.appendChild(el("span", "tp-media-url", url));
    return box;
  }

  function buttons(items) {
    const list = (items || []).filter((b) => b && b.Type);
    if (!list.length) return null;
    const box = el("div", "tp-buttons");
    for (const b of list) {
      const detail = { URL: b.Url, PHONE_NUMBER: b.PhoneNumber, COPY_CODE: b.CouponCode, FLOW: b.NavigateScreen }[b.Type];
      const label = b.Text || DEFAULT_TEXT[b.Type] || b.Type.replace(/_/g, " ").toLowerCase();
      const button = el("div", "tp-button");
      if (detail) button.title = detail;
      if (b.Type === "QUICK_REPLY" && b.IsOptOut) button.title = "unsubscribes from marketing";
      const icon = el("span", null, ICONS[b.Type] || "•");
      icon.setAttribute("aria-hidden", "true");
      button.append(icon, " " + label);
      box.appendChild(button);
    }
    return box;
  }

  /* Draw the preview of `model` ({kind, category, components, example}) into `target`. */
  function render(target, model) {
    const parts = byType(model.components);
    const kind = model.kind === "VIBER" ? "viber" : "whatsapp";
    const authentication = kind === "whatsapp" && model.category === "AUTHENTICATION";
    const samples = model.example || {};
    const phone = el("div", "tp-phone tp-" + kind);
    phone.dataset.testid = "preview";
    const bubble = el("div", "tp-bubble");
    phone.appendChild(bubble);

    const offer = parts.LIMITED_TIME_OFFER;
    if (offer) {
      const box = el("div", "tp-offer");
      box.appendChild(el("strong", null, offer.Text || "Limited-time offer"));
      if (offer.HasExpiration) box.appendChild(el("div", "small", "Offer ends soon"));
      bubble.appendChild(box);
    }
    const header = parts.HEADER;
    if (header && !authentication) {
      if ((header.Format || "TEXT") === "TEXT") {
        const text = el("div", "tp-header-text");
        appendRuns(text, fill(header.Text, samples));
        bubble.appendChild(text);
      } else {
        bubble.appendChild(media(header.Format, header.Url, header.FileName));
        if (header.Caption) bubble.appendChild(el("div", "tp-caption", header.Caption));
      }
    }
    const body = el("div", "tp-body");
    const footerPart = parts.FOOTER || {};
    let footer = footerPart.Text || "";
    if (authentication) {
      const text = AUTH_BODY + ((parts.BODY || {}).AddSecretRecommendation ? AUTH_SECRET : "");
      appendRuns(body, fill(text.replace("{{1}}", "*{{1}}*"), { 1: "123456" }));
      const minutes = footerPart.CodeExpirationMinutes;
      footer = minutes ? "This code expires in " + minutes + " minutes." : "";
    } else {
      appendRuns(body, fill((parts.BODY || {}).Text, samples));
    }
    bubble.appendChild(body);
    if (footer) bubble.appendChild(el("div", "tp-footer", footer));
    bubble.appendChild(el("div", "tp-time", "12:00"));

    const row = buttons((parts.BUTTONS || {}).Buttons);
    if (row) phone.appendChild(row);
    const cards = (parts.CAROUSEL || {}).Cards || [];
    if (cards.length) {
      const strip = el("div", "tp-cards");
      for (const card of cards) {
        const cardParts = byType(card.CardComponents);
        const box = el("div", "tp-card");
        const cardHeader = cardParts.HEADER || {};
        box.appendChild(media(cardHeader.Format, cardHeader.Url));
        const cardBody = el("div", "tp-body");
        appendRuns(cardBody, fill((cardParts.BODY || {}).Text, samples));
        box.appendChild(cardBody);
        const cardButtons = buttons((cardParts.BUTTONS || {}).Buttons);
        if (cardButtons) box.appendChild(cardButtons);
        strip.appendChild(box);
      }
      phone.appendChild(strip);
    }
    target.replaceChildren(phone);
  }

  window.CamsPreview = { render: render, runs: runs };
})();
