// Forms built from the public OpenAPI document (issue 11: the form comes from the catalogue and the API, not
// from a copy in the desk): each JSON Schema property becomes a labelled field named by its path in the request
// body (`details.child.iin`), so the API's problem details land next to it.
import { addMessages, t } from "../i18n.js";
import { field, h, setFieldError } from "../ui.js";

addMessages({
  ru: {
    "form.required": "Обязательное поле",
    "form.iin": "ИИН — 12 цифр",
    "form.tooLong": "Не более {n} символов",
    "form.tooShort": "Не менее {n} символов",
    "form.pattern": "Недопустимый формат",
    "form.phone": "Телефон: от 10 до 15 цифр, можно начать с +",
    "form.email": "Это не адрес электронной почты",
    "form.optionalGroup": "Заполните, если есть",
    "field.applicant": "Заявитель",
    "field.representative": "Представитель",
    "field.contact": "Контакты",
    "field.details": "Сведения",
    "field.person": "Лицо",
    "field.child": "Ребёнок",
    "field.mother": "Мать",
    "field.father": "Отец",
    "field.name": "ФИО",
    "field.surname": "Фамилия",
    "field.first_name": "Имя",
    "field.patronymic": "Отчество",
    "field.iin": "ИИН",
    "field.sex": "Пол",
    "field.birth_date": "Дата рождения",
    "field.birth_place": "Место рождения",
    "field.phone": "Телефон",
    "field.email": "Электронная почта",
    "field.power_of_attorney": "Доверенность",
    "field.number": "Номер",
    "field.issued_on": "Дата выдачи",
    "field.valid_until": "Действует до",
    "field.notary": "Нотариус",
    "field.variant": "Основание",
    "field.citizenship": "Гражданство",
    "field.nationality": "Национальность",
    "field.reason": "Причина",
    "field.death_date": "Дата смерти",
    "field.death_place": "Место смерти",
    "field.cause": "Причина",
    "field.spouse": "Супруг(а)",
    "field.bride": "Невеста",
    "field.groom": "Жених",
    "field.new_name": "Новое ФИО",
    "field.record_number": "Номер актовой записи",
    "field.subject": "Лицо, о котором запись",
    "field.parties": "Стороны",
    "enum.male": "мужской",
    "enum.female": "женский",
  },
  kk: {
    "form.required": "Міндетті өріс",
    "form.iin": "ЖСН — 12 цифр",
    "form.tooLong": "{n} таңбадан аспауы керек",
    "form.tooShort": "Кемінде {n} таңба",
    "form.pattern": "Пішімі жарамсыз",
    "form.phone": "Телефон: 10-нан 15-ке дейін цифр, + белгісімен басталуы мүмкін",
    "form.email": "Бұл электрондық пошта мекенжайы емес",
    "form.optionalGroup": "Бар болса толтырыңыз",
    "field.applicant": "Өтініш беруші",
    "field.representative": "Өкіл",
    "field.contact": "Байланыс",
    "field.details": "Мәліметтер",
    "field.person": "Тұлға",
    "field.child": "Бала",
    "field.mother": "Анасы",
    "field.father": "Әкесі",
    "field.name": "Аты-жөні",
    "field.surname": "Тегі",
    "field.first_name": "Аты",
    "field.patronymic": "Әкесінің аты",
    "field.iin": "ЖСН",
    "field.sex": "Жынысы",
    "field.birth_date": "Туған күні",
    "field.birth_place": "Туған жері",
    "field.phone": "Телефон",
    "field.email": "Электрондық пошта",
    "field.power_of_attorney": "Сенімхат",
    "field.number": "Нөмірі",
    "field.issued_on": "Берілген күні",
    "field.valid_until": "Жарамдылық мерзімі",
    "field.notary": "Нотариус",
    "field.variant": "Негіз",
    "field.citizenship": "Азаматтығы",
    "field.nationality": "Ұлты",
    "field.reason": "Себебі",
    "field.death_date": "Қайтыс болған күні",
    "field.death_place": "Қайтыс болған жері",
    "field.cause": "Себебі",
    "field.spouse": "Жұбайы",
    "field.bride": "Қалыңдық",
    "field.groom": "Күйеу жігіт",
    "field.new_name": "Жаңа аты-жөні",
    "field.record_number": "Акт жазбасының нөмірі",
    "field.subject": "Жазба кім туралы",
    "field.parties": "Тараптар",
    "enum.male": "ер",
    "enum.female": "әйел",
  },
});

// t(key), or `fallback` when no module knows the key.
export function tOr(key, fallback) {
  const text = t(key);
  return text === key ? fallback : text;
}

let openapi = null;

// The gateway's merged OpenAPI document (public, no sign-in), fetched once per page load.
export async function loadOpenApi() {
  if (!openapi) {
    const response = await fetch("/openapi.json", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`/openapi.json: HTTP ${response.status}`);
    openapi = await response.json();
  }
  return openapi;
}

export function resolve(doc, schema) {
  let s = schema;
  for (let depth = 0; s && s.$ref && depth < 20; depth++) {
    s = s.$ref.replace(/^#\//, "").split("/").reduce((node, key) => node?.[key], doc);
  }
  return s || {};
}

// A nullable member (`anyOf: [X, {type: null}]`) is X, optional.
function unwrap(doc, schema) {
  const s = resolve(doc, schema);
  if (Array.isArray(s.anyOf)) {
    const members = s.anyOf.map((m) => resolve(doc, m)).filter((m) => m.type !== "null");
    if (members.length === 1) return { schema: { ...members[0], title: s.title || members[0].title }, nullable: true };
  }
  return { schema: s, nullable: false };
}

// The request body schema of an operation, e.g. requestSchema(doc, "post", "/api/v1/applications").
export function requestSchema(doc, method, path) {
  const op = doc.paths?.[path]?.[method];
  return resolve(doc, op?.requestBody?.content?.["application/json"]?.schema);
}

export function labelFor(path, schema) {
  const last = path.split(".").pop();
  return tOr(`field.${last}`, schema.title || last);
}

// The fields of `schema` (an object) under `prefix`: nested objects become fieldsets. `skip` names top-level
// properties the caller renders itself; `overrides[path]` replaces a field's input (e.g. a select of variants).
export function schemaFields(doc, schema, prefix, { required = true, skip = [], overrides = {} } = {}) {
  const s = resolve(doc, schema);
  const needed = new Set(s.required || []);
  const out = [];
  for (const [name, prop] of Object.entries(s.properties || {})) {
    if (skip.includes(name)) continue;
    const path = prefix ? `${prefix}.${name}` : name;
    if (overrides[path]) {
      out.push(overrides[path]());
      continue;
    }
    const { schema: p, nullable } = unwrap(doc, prop);
    const isRequired = required && needed.has(name) && !nullable;
    if (p.type === "object" || p.properties) {
      out.push(
        h(
          "fieldset",
          { "data-group": path },
          h("legend", {}, labelFor(path, p)),
          isRequired ? null : h("p", { class: "hint" }, t("form.optionalGroup")),
          schemaFields(doc, p, path, { required: isRequired, overrides })
        )
      );
    } else if (p.type === "array") {
      continue; // lists (documents) are the caller's: the checklist comes from the catalogue
    } else {
      out.push(inputFor(path, p, isRequired));
    }
  }
  return out;
}

function inputFor(path, p, required) {
  const attrs = { "data-path": path };
  let type = "text";
  let options;
  if (Array.isArray(p.enum)) options = p.enum.map((v) => ({ value: v, label: tOr(`enum.${v}`, v) }));
  else if (p.type === "boolean") type = "checkbox";
  else if (p.type === "integer" || p.type === "number") type = "number";
  else if (p.format === "date") type = "date";
  else if (p.format === "date-time") type = "datetime-local";
  else if (p.format === "email" || path.endsWith(".email")) type = "email";
  if (p.maxLength) attrs.maxlength = p.maxLength;
  if (p.minLength) attrs["data-minlength"] = p.minLength;
  if (p.pattern) attrs["data-pattern"] = p.pattern;
  if (isIin(path)) Object.assign(attrs, { inputmode: "numeric", maxlength: 12, autocomplete: "off" });
  if (path.endsWith(".phone")) Object.assign(attrs, { inputmode: "tel", autocomplete: "off" });
  return field({ name: path, label: labelFor(path, p), type, required, options, attrs, hint: isIin(path) ? t("form.iin") : undefined });
}

function isIin(path) {
  const last = path.split(".").pop();
  return last === "iin" || last.endsWith("_iin");
}

// What is wrong with one input's value, or "": the shape the API requires (presence, lengths, 12 digits of an
// IIN), seen before submitting. The API still decides, e.g. an IIN's check digit and date, and its answer is
// shown at the same place.
export function problemOf(input) {
  if (input.type === "checkbox") return input.required && !input.checked ? t("form.required") : "";
  const value = input.value.trim();
  if (!value) return input.required ? t("form.required") : "";
  const name = input.name || "";
  if (isIin(name)) {
    if (!/^\d{12}$/.test(value)) return t("form.iin");
  }
  if (name.endsWith(".phone") && !/^\+?\d{10,15}$/.test(value.replace(/ /g, ""))) return t("form.phone");
  if (name.endsWith(".email") && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) return t("form.email");
  const max = Number(input.getAttribute("maxlength"));
  if (max && value.length > max) return t("form.tooLong", { n: max });
  const min = Number(input.dataset.minlength);
  if (min && value.length < min) return t("form.tooShort", { n: min });
  if (input.dataset.pattern) {
    try {
      if (!new RegExp(input.dataset.pattern, "u").test(value)) return t("form.pattern");
    } catch {
      // a pattern JavaScript cannot read is the API's to check
    }
  }
  return "";
}

// Validation as you type: a field is checked on every keystroke once it has been left (or shown an error), so
// the operator is not told off for a value still being typed.
export function liveValidation(form) {
  const check = (input) => setFieldError(form, input.name, problemOf(input));
  form.addEventListener("focusout", (event) => {
    const input = event.target;
    if (!input.name || !("value" in input)) return;
    input.dataset.touched = "1";
    check(input);
  });
  form.addEventListener("input", (event) => {
    const input = event.target;
    if (input.dataset?.touched || input.getAttribute("aria-invalid")) check(input);
  });
}

// Checks every visible input; returns the first that has a problem (focused), or null.
export function validateAll(form) {
  let first = null;
  for (const input of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    if (input.closest("[hidden]") || input.disabled) continue;
    const problem = problemOf(input);
    setFieldError(form, input.name, problem);
    if (problem && !first) first = input;
  }
  if (first) first.focus();
  return first;
}

// The body the inputs with a `data-path` describe; empty fields are left out, and so is a group left empty.
export function collect(form) {
  const body = {};
  for (const input of form.querySelectorAll("[data-path]")) {
    if (input.closest("[hidden]") || input.disabled) continue;
    let value;
    if (input.type === "checkbox") value = input.checked;
    else if (input.type === "number") value = input.value === "" ? undefined : Number(input.value);
    else value = input.value.trim() === "" ? undefined : input.value.trim();
    if (value === undefined) continue;
    const keys = input.dataset.path.split(".");
    let node = body;
    for (const k of keys.slice(0, -1)) node = node[k] ??= {};
    node[keys[keys.length - 1]] = value;
  }
  return body;
}
