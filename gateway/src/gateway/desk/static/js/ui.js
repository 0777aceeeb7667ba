// Small DOM helpers shared by every page: a builder, labelled fields with an error slot, tables, dates, notices.
import { lang, t } from "./i18n.js";

// h("button", {class: "primary", "on:click": fn, "data-testid": "x"}, "text", child, [more])
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on:")) el.addEventListener(k.slice(3), v);
    else if (k === "class") el.className = v;
    else if (k === "value" && "value" in el) el.value = v;
    else if (k === "checked" || k === "selected" || k === "disabled" || k === "required") el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let fieldSerial = 0;

// A labelled input (or select, textarea, checkbox) with a hint and an error slot tied by aria-describedby.
// `name` is the field path the API's problem details use (`child.iin`), so errors land next to it.
export function field({ name, label, type = "text", required, options, value, hint, attrs = {} }) {
  const id = `f-${++fieldSerial}`;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const common = {
    id,
    name,
    required: Boolean(required),
    "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
    "data-testid": `field-${name}`,
    ...attrs,
  };
  let input;
  if (options) {
    input = h(
      "select",
      common,
      // An optional select starts empty, unless its options name their own empty choice.
      required || options.some((o) => o.value === "") ? null : h("option", { value: "" }, "—"),
      options.map((o) => h("option", { value: o.value, selected: o.value === value }, o.label))
    );
  } else if (type === "textarea") {
    input = h("textarea", { ...common, rows: 3 }, value || "");
  } else if (type === "checkbox") {
    input = h("input", { ...common, type, checked: Boolean(value) });
  } else {
    input = h("input", { ...common, type, value: value ?? "" });
  }
  const labelEl = h(
    "label",
    { for: id },
    label,
    required ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null
  );
  return h(
    "div",
    { class: `field field-${type}`, "data-field": name },
    type === "checkbox" ? [input, labelEl] : [labelEl, input],
    hint ? h("div", { class: "hint", id: hintId }, hint) : null,
    h("div", { class: "error", id: errorId, role: "alert", "aria-live": "polite" })
  );
}

// Sets (or clears, with "") the message next to the input named `name` in `form`.
export function setFieldError(form, name, message) {
  const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
  if (!input) return false;
  const slot = input.closest(".field")?.querySelector(".error");
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  if (slot) slot.textContent = message || "";
  return true;
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll(".field .error")) slot.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  form.querySelector(".error-summary")?.remove();
}

// Each ApiError.fields message next to its input, and a summary at the top of the form (first error focused).
// A field with no input of that name (e.g. `details` as a whole) is shown in the summary only.
export function showFieldErrors(form, apiError) {
  clearErrors(form);
  const items = [];
  let first = null;
  for (const [name, message] of Object.entries(apiError.fields || {})) {
    const placed = setFieldError(form, name, message);
    const input = placed ? form.querySelector(`[name="${CSS.escape(name)}"]`) : null;
    if (input && !first) first = input;
    items.push(h("li", {}, placed ? `${labelOf(form, name)}: ${message}` : `${name}: ${message}`));
  }
  const summary = h(
    "div",
    { class: "error-summary notice notice-error", role: "alert", tabindex: "-1", "data-testid": "error-summary" },
    h("strong", {}, apiError.summary || apiError.detail || apiError.title || t("ui.error")),
    items.length ? h("ul", {}, items) : null
  );
  form.prepend(summary);
  (first || summary).focus();
}

function labelOf(form, name) {
  const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
  const label = input && form.querySelector(`label[for="${input.id}"]`);
  return label ? label.textContent.replace(/\s*\*$/, "") : name;
}

// columns: [{key, label, render?(row)}]; rows: objects. Each row gets data-testid="row-<index>" unless
// the column set gives `rowTestId(row)`.
export function table(columns, rows, { caption, rowTestId } = {}) {
  return h(
    "table",
    { class: "data" },
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
    h(
      "tbody",
      {},
      rows.length === 0
        ? h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, t("ui.empty")))
        : rows.map((row, i) =>
            h(
              "tr",
              { "data-testid": rowTestId ? rowTestId(row) : `row-${i}` },
              columns.map((c) => h("td", {}, c.render ? c.render(row) : row[c.key] ?? ""))
            )
          )
    )
  );
}

// Site time zone: every centre and office of the platform is in Asia/Almaty.
export const SITE_TZ = "Asia/Almaty";
const LOCALES = { ru: "ru-RU", kk: "kk-KZ" };

export function fmtDate(value, timeZone = SITE_TZ) {
  if (!value) return "";
  // A plain date (YYYY-MM-DD) is a calendar day, not an instant: never shifted by a time zone.
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split("-");
    return `${d}.${m}.${y}`;
  }
  return new Intl.DateTimeFormat(LOCALES[lang()], { timeZone, dateStyle: "short" }).format(new Date(value));
}

export function fmtDateTime(value, timeZone = SITE_TZ) {
  if (!value) return "";
  return new Intl.DateTimeFormat(LOCALES[lang()], { timeZone, dateStyle: "short", timeStyle: "short" }).format(
    new Date(value)
  );
}

// kind: info | success | warning | error. Errors are announced (role=alert), the rest politely (role=status).
export function notice(kind, text) {
  return h(
    "div",
    { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status", "data-testid": `notice-${kind}` },
    h("strong", { class: "notice-kind" }, t(`ui.notice.${kind}`), ": "),
    text
  );
}

// A modal question (native <dialog>: focus trapped, Escape cancels); resolves true when confirmed.
export function confirmDialog(message, { confirm, cancel } = {}) {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-label": message, "data-testid": "confirm-dialog" },
      h("p", {}, message),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", "data-testid": "confirm-yes", "on:click": () => close(true) }, confirm || t("ui.confirm")),
        h("button", { type: "button", class: "secondary", "data-testid": "confirm-no", "on:click": () => close(false) }, cancel || t("ui.cancel"))
      )
    );
    function close(answer) {
      dialog.close();
      dialog.remove();
      resolve(answer);
    }
    dialog.addEventListener("cancel", () => close(false));
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("button").focus();
  });
}
