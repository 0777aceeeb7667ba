// The centre operator's desk (issue 11), also the registry desk's and the registry worker's: pick a service,
// fill the form the catalogue and the API describe, submit, print the receipt; find an application, its
// timeline, hand the result over; the centre's storage of uncollected results (S004 p.9).
import { route } from "../app.js";
import { ApiError, newIdempotencyKey, openBlob } from "../api.js";
import { addMessages, lang, t } from "../i18n.js";
import { clearErrors, confirmDialog, field, fmtDateTime, h, notice, showFieldErrors, table } from "../ui.js";
import { collect, liveValidation, loadOpenApi, requestSchema, schemaFields, tOr, validateAll } from "./schema_form.js";

// Who submits at which channel (conventions.md, Channels): the role is the channel.
const CHANNEL_OF_ROLE = {
  centre_operator: "state_corporation",
  registry_chancellery: "desk",
  registry_worker: "desk",
};
const SUBMITTERS = Object.keys(CHANNEL_OF_ROLE);
const READERS = ["centre_operator", "registry_chancellery", "registry_head", "registry_executive", "registry_worker", "supervisor"];
const HANDOVER_ROLES = ["centre_operator", "registry_chancellery", "registry_head", "registry_executive", "registry_worker"];
const AMENDMENT = "amendment";
// A result waits at the centre one month, then goes back to the registry office (S004 p.9).
const STORAGE_MONTHS = 1;
const SEARCH_LIMIT = 500;

addMessages({
  ru: {
    "operator.nav.new": "Новое заявление",
    "operator.nav.find": "Найти заявление",
    "operator.nav.storage": "Хранение результатов",
    "operator.services.title": "Выберите услугу",
    "operator.services.none": "Для вашего канала нет доступных услуг",
    "operator.services.condition": "Условие канала: {condition}",
    "operator.form.title": "Заявление: {service}",
    "operator.form.variant": "Вариант",
    "operator.form.variantDefault": "Обычный порядок",
    "operator.form.variant.amendment": "Внесение изменений, дополнений и исправлений",
    "operator.form.withRepresentative": "Обращается представитель по доверенности",
    "operator.form.documents": "Представленные документы",
    "operator.form.documentsHint": "Отметьте документы, которые заявитель принёс. Без обязательных документов будет выдана расписка об отказе в приёме.",
    "operator.form.docRequired": "обязательный",
    "operator.form.docOptional": "при наличии",
    "operator.form.docRepresentative": "для представителя",
    "operator.form.submit": "Принять заявление",
    "operator.form.submitting": "Отправка…",
    "operator.form.invalid": "Исправьте отмеченные поля",
    "operator.receipt.accepted": "Заявление принято. Номер расписки:",
    "operator.receipt.refused": "В приёме отказано (неполный пакет). Номер расписки об отказе:",
    "operator.receipt.print": "Печать расписки (PDF)",
    "operator.receipt.open": "Открыть заявление",
    "operator.receipt.another": "Новое заявление",
    "operator.receipt.pdfFailed": "Не удалось получить PDF: {detail}",
    "operator.find.title": "Найти заявление",
    "operator.find.query": "Номер расписки или ИИН заявителя",
    "operator.find.hint": "12 цифр — поиск по ИИН, иначе по номеру расписки",
    "operator.find.submit": "Найти",
    "operator.find.none": "Ничего не найдено",
    "operator.col.receipt": "Расписка",
    "operator.col.service": "Услуга",
    "operator.col.applicant": "Заявитель",
    "operator.col.status": "Статус",
    "operator.col.submitted": "Подано",
    "operator.col.received": "Результат поступил",
    "operator.col.due": "Срок",
    "operator.col.action": "Действие",
    "operator.app.title": "Заявление {number}",
    "operator.app.facts": "Сведения",
    "operator.app.timeline": "Ход рассмотрения",
    "operator.app.outcome": "Итог",
    "operator.app.record": "Номер актовой записи",
    "operator.app.office": "Регистрирующий орган",
    "operator.app.centre": "Центр",
    "operator.app.channel": "Канал",
    "operator.app.refusalReason": "Причина отказа",
    "operator.app.recallDue": "Срок возврата из ЗАГС",
    "operator.handover.title": "Выдача результата",
    "operator.handover.receipt": "Номер расписки (с бумажной расписки)",
    "operator.handover.recipient": "Получатель",
    "operator.handover.recipient.applicant": "Заявитель",
    "operator.handover.recipient.representative": "Представитель",
    "operator.handover.iin": "ИИН по документу, удостоверяющему личность получателя",
    "operator.handover.identityChecked": "Документ, удостоверяющий личность, проверен",
    "operator.handover.attorneyChecked": "Доверенность проверена и действует",
    "operator.handover.submit": "Выдать",
    "operator.handover.done": "Результат выдан",
    "operator.storage.title": "Хранение результатов в центре",
    "operator.storage.due": "Хранятся дольше месяца — вернуть в ЗАГС",
    "operator.storage.waiting": "Ожидают получения",
    "operator.storage.returned": "Возвращены в ЗАГС",
    "operator.storage.recalling": "Запрошены из ЗАГС",
    "operator.storage.overdue": "просрочено",
    "operator.storage.return": "Вернуть в ЗАГС",
    "operator.storage.recall": "Запросить из ЗАГС",
    "operator.storage.recalled": "Получен из ЗАГС",
    "operator.storage.confirmReturn": "Вернуть результат по расписке {number} в ЗАГС?",
    "operator.storage.done": "Готово: {number}",
    "status.accepted": "принято",
    "status.acceptance_refused": "отказано в приёме",
    "status.forwarded_to_registry": "передано в ЗАГС",
    "status.ready_for_pickup": "готово к выдаче",
    "status.issued": "выдано",
    "status.returned_to_registry": "возвращено в ЗАГС",
    "status.recall_requested": "запрошено из ЗАГС",
    "channel.state_corporation": "ЦОН",
    "channel.desk": "ЗАГС",
    "channel.portal": "портал",
  },
  kk: {
    "operator.nav.new": "Жаңа өтініш",
    "operator.nav.find": "Өтінішті табу",
    "operator.nav.storage": "Нәтижелерді сақтау",
    "operator.services.title": "Қызметті таңдаңыз",
    "operator.services.none": "Сіздің арнаңыз үшін қолжетімді қызмет жоқ",
    "operator.services.condition": "Арна шарты: {condition}",
    "operator.form.title": "Өтініш: {service}",
    "operator.form.variant": "Нұсқа",
    "operator.form.variantDefault": "Әдеттегі тәртіп",
    "operator.form.variant.amendment": "Өзгерістер, толықтырулар мен түзетулер енгізу",
    "operator.form.withRepresentative": "Сенімхат бойынша өкіл жүгінеді",
    "operator.form.documents": "Ұсынылған құжаттар",
    "operator.form.documentsHint": "Өтініш беруші әкелген құжаттарды белгілеңіз. Міндетті құжаттар болмаса, қабылдаудан бас тарту туралы қолхат беріледі.",
    "operator.form.docRequired": "міндетті",
    "operator.form.docOptional": "бар болса",
    "operator.form.docRepresentative": "өкіл үшін",
    "operator.form.submit": "Өтінішті қабылдау",
    "operator.form.submitting": "Жіберілуде…",
    "operator.form.invalid": "Белгіленген өрістерді түзетіңіз",
    "operator.receipt.accepted": "Өтініш қабылданды. Қолхат нөмірі:",
    "operator.receipt.refused": "Қабылдаудан бас тартылды (толық емес топтама). Бас тарту туралы қолхат нөмірі:",
    "operator.receipt.print": "Қолхатты басып шығару (PDF)",
    "operator.receipt.open": "Өтінішті ашу",
    "operator.receipt.another": "Жаңа өтініш",
    "operator.receipt.pdfFailed": "PDF алу мүмкін болмады: {detail}",
    "operator.find.title": "Өтінішті табу",
    "operator.find.query": "Қолхат нөмірі немесе өтініш берушінің ЖСН",
    "operator.find.hint": "12 цифр — ЖСН бойынша іздеу, әйтпесе қолхат нөмірі бойынша",
    "operator.find.submit": "Табу",
    "operator.find.none": "Ештеңе табылмады",
    "operator.col.receipt": "Қолхат",
    "operator.col.service": "Қызмет",
    "operator.col.applicant": "Өтініш беруші",
    "operator.col.status": "Мәртебесі",
    "operator.col.submitted": "Берілген күні",
    "operator.col.received": "Нәтиже келді",
    "operator.col.due": "Мерзімі",
    "operator.col.action": "Әрекет",
    "operator.app.title": "Өтініш {number}",
    "operator.app.facts": "Мәліметтер",
    "operator.app.timeline": "Қарау барысы",
    "operator.app.outcome": "Нәтижесі",
    "operator.app.record": "Акт жазбасының нөмірі",
    "operator.app.office": "Тіркеуші орган",
    "operator.app.centre": "Орталық",
    "operator.app.channel": "Арна",
    "operator.app.refusalReason": "Бас тарту себебі",
    "operator.app.recallDue": "АХАТ-тан қайтару мерзімі",
    "operator.handover.title": "Нәтижені беру",
    "operator.handover.receipt": "Қолхат нөмірі (қағаз қолхаттан)",
    "operator.handover.recipient": "Алушы",
    "operator.handover.recipient.applicant": "Өтініш беруші",
    "operator.handover.recipient.representative": "Өкіл",
    "operator.handover.iin": "Алушының жеке басын куәландыратын құжаттағы ЖСН",
    "operator.handover.identityChecked": "Жеке басын куәландыратын құжат тексерілді",
    "operator.handover.attorneyChecked": "Сенімхат тексерілді және күшінде",
    "operator.handover.submit": "Беру",
    "operator.handover.done": "Нәтиже берілді",
    "operator.storage.title": "Орталықта нәтижелерді сақтау",
    "operator.storage.due": "Бір айдан артық сақталуда — АХАТ-қа қайтару",
    "operator.storage.waiting": "Алуды күтуде",
    "operator.storage.returned": "АХАТ-қа қайтарылды",
    "operator.storage.recalling": "АХАТ-тан сұратылды",
    "operator.storage.overdue": "мерзімі өтті",
    "operator.storage.return": "АХАТ-қа қайтару",
    "operator.storage.recall": "АХАТ-тан сұрату",
    "operator.storage.recalled": "АХАТ-тан алынды",
    "operator.storage.confirmReturn": "{number} қолхаты бойынша нәтижені АХАТ-қа қайтару керек пе?",
    "operator.storage.done": "Дайын: {number}",
    "status.accepted": "қабылданды",
    "status.acceptance_refused": "қабылдаудан бас тартылды",
    "status.forwarded_to_registry": "АХАТ-қа жіберілді",
    "status.ready_for_pickup": "беруге дайын",
    "status.issued": "берілді",
    "status.returned_to_registry": "АХАТ-қа қайтарылды",
    "status.recall_requested": "АХАТ-тан сұратылды",
    "channel.state_corporation": "ХҚКО",
    "channel.desk": "АХАТ",
    "channel.portal": "портал",
  },
});

const serviceName = (s) => (s?.names ? s.names[lang()] || s.names.ru : s?.id || "");
// The catalogue by service id, read once per page load (it changes with a deployment, not during a shift); an
// application shows its service's name in the desk's language, its id only when the catalogue cannot be read.
let catalogueRead = null;
async function catalogueById(api) {
  catalogueRead ??= api("GET", "/api/v1/services").then(
    (services) => new Map(services.map((s) => [s.id, s])),
    () => {
      catalogueRead = null;
      return new Map();
    }
  );
  return catalogueRead;
}
const serviceNameOf = (services, id) => (services.has(id) ? serviceName(services.get(id)) : id);
const statusText = (status) => tOr(`status.${status}`, status);
const receiptNumberOf = (answer) => answer.receipt?.number || answer.refusal_receipt?.number || answer.receipt_number;

// ---- the service picker ---------------------------------------------------------------------------------------

route("/applications/new", {
  title: "operator.services.title",
  nav: "operator.nav.new",
  roles: SUBMITTERS,
  async render(container, params, { user, api }) {
    const channel = CHANNEL_OF_ROLE[user.role];
    const services = (await api("GET", "/api/v1/services")).filter((s) => s.channels.includes(channel));
    container.append(
      h("h1", {}, t("operator.services.title")),
      services.length === 0
        ? notice("info", t("operator.services.none"))
        : h(
            "ul",
            { class: "service-list" },
            services.map((s) =>
              h(
                "li",
                {},
                h("a", { href: `#/applications/new/${encodeURIComponent(s.id)}`, "data-testid": `service-${s.id}` }, serviceName(s)),
                s.channel_conditions?.[channel]
                  ? h("span", { class: "hint" }, " — ", t("operator.services.condition", { condition: s.channel_conditions[channel] }))
                  : null
              )
            )
          )
    );
  },
});

// ---- the application form -------------------------------------------------------------------------------------

function detailsMember(doc, bodySchema, serviceId, variant) {
  const members = bodySchema.properties?.details?.anyOf || [];
  const want = (m) => (variant === AMENDMENT ? m["x-variant"] === AMENDMENT : m["x-service-id"] === serviceId);
  return members.find(want) || null;
}

// Which of the catalogue's documents apply to this variant and whether a representative comes (S002 App.* p.8).
function checklist(service, variant, withRepresentative) {
  const listed = (v) => (Array.isArray(v) ? v : v ? [v] : []);
  return service.documents.filter((d) => {
    if (d.required === "if_representative" && !withRepresentative) return false;
    if (d.only_variant && !listed(d.only_variant).includes(variant)) return false;
    if (d.unless_variant && listed(d.unless_variant).includes(variant)) return false;
    return true;
  });
}

function documentBox(d) {
  const kind = { always: "operator.form.docRequired", optional: "operator.form.docOptional", if_representative: "operator.form.docRepresentative" }[d.required];
  return field({
    name: `documents.${d.code}`,
    label: `${d.name[lang()] || d.name.ru} (${t(kind)})`,
    type: "checkbox",
    attrs: { "data-document": d.code },
  });
}

route("/applications/new/:service", {
  title: "operator.services.title",
  roles: SUBMITTERS,
  async render(container, { service: serviceId }, { api, go }) {
    const [service, doc] = await Promise.all([
      api("GET", `/api/v1/services/${encodeURIComponent(serviceId)}`),
      loadOpenApi(),
    ]);
    const bodySchema = requestSchema(doc, "post", "/api/v1/applications");
    // One key per form: a double click, or a retry after a lost answer, returns the same receipt.
    const idempotencyKey = newIdempotencyKey();
    const variants = service.variants || [];
    let variant = "";
    let withRepresentative = false;

    const form = h("form", { "data-testid": "application-form", novalidate: true });
    const variantSelect = () =>
      field({
        name: "details.variant",
        label: t("operator.form.variant"),
        options: variants.map((v) => ({ value: v, label: tOr(`operator.form.variant.${v}`, v) })),
        value: variant,
        attrs: { "data-path": "details.variant", "data-testid": "variant" },
      });
    const hasVariantField = (member) => Boolean(member?.properties?.variant);

    function draw() {
      const member = detailsMember(doc, bodySchema, serviceId, variant);
      const sections = [
        h("input", { type: "hidden", name: "service_id", value: serviceId, "data-path": "service_id" }),
        variants.includes(AMENDMENT) && !hasVariantField(member)
          ? field({
              name: "variant-choice",
              label: t("operator.form.variant"),
              options: [
                { value: "", label: t("operator.form.variantDefault") },
                { value: AMENDMENT, label: t("operator.form.variant.amendment") },
              ],
              value: variant,
              attrs: { "data-testid": "variant" },
            })
          : null,
        h("fieldset", {}, h("legend", {}, tOr("field.applicant", "applicant")), schemaFields(doc, bodySchema.properties.applicant, "applicant")),
        h("fieldset", {}, h("legend", {}, tOr("field.contact", "contact")), schemaFields(doc, bodySchema.properties.contact, "contact", { required: false })),
        field({ name: "with-representative", label: t("operator.form.withRepresentative"), type: "checkbox", value: withRepresentative, attrs: { "data-testid": "with-representative" } }),
        withRepresentative
          ? h("fieldset", {}, h("legend", {}, tOr("field.representative", "representative")), schemaFields(doc, bodySchema.properties.representative, "representative"))
          : null,
        member
          ? h(
              "fieldset",
              {},
              h("legend", {}, tOr("field.details", "details")),
              schemaFields(doc, member, "details", { overrides: hasVariantField(member) ? { "details.variant": variantSelect } : {} })
            )
          : null,
        h(
          "fieldset",
          { "data-testid": "checklist" },
          h("legend", {}, t("operator.form.documents")),
          h("p", { class: "hint" }, t("operator.form.documentsHint")),
          checklist(service, variant, withRepresentative).map(documentBox)
        ),
        h("div", { class: "actions" }, h("button", { type: "submit", "data-testid": "submit-application" }, t("operator.form.submit"))),
      ];
      // Keep what was typed when the variant or the representative changes the form.
      const before = snapshot(form);
      form.replaceChildren(...sections.filter(Boolean));
      restore(form, before);
    }

    form.addEventListener("change", (event) => {
      const target = event.target;
      if (target.name === "variant-choice" || target.name === "details.variant") {
        variant = target.value;
        draw();
        form.querySelector(`[name="${target.name}"]`)?.focus();
      } else if (target.name === "with-representative") {
        withRepresentative = target.checked;
        draw();
        form.querySelector('[name="with-representative"]')?.focus();
      }
    });
    liveValidation(form);

    let sending = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (sending) return; // a second Enter while the first is on its way
      clearErrors(form);
      if (validateAll(form)) {
        showFieldErrors(form, new ApiError({ status: 0, detail: t("operator.form.invalid"), fields: {} }));
        form.querySelector("[aria-invalid]")?.focus();
        return;
      }
      const body = collect(form);
      if (variant === AMENDMENT) (body.details ??= {}).variant = AMENDMENT;
      body.documents = [...form.querySelectorAll("[data-document]")].filter((c) => c.checked).map((c) => c.dataset.document);
      body.contact ??= {};
      body.details ??= {};
      const button = form.querySelector("[data-testid=submit-application]");
      sending = true;
      button.disabled = true;
      button.textContent = t("operator.form.submitting");
      try {
        const answer = await api("POST", "/api/v1/applications", { body, idempotencyKey });
        showReceipt(container, answer, { api, go });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showFieldErrors(form, error);
      } finally {
        sending = false;
        button.disabled = false;
        button.textContent = t("operator.form.submit");
      }
    });

    draw();
    container.append(h("h1", {}, t("operator.form.title", { service: serviceName(service) })), form);
  },
});

function snapshot(form) {
  const values = {};
  for (const input of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    values[input.name] = input.type === "checkbox" ? input.checked : input.value;
  }
  return values;
}

function restore(form, values) {
  for (const input of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    if (!(input.name in values) || input.type === "hidden") continue;
    if (input.type === "checkbox") input.checked = values[input.name];
    else input.value = values[input.name];
  }
}

async function printReceipt(api, applicationId, number, slot) {
  try {
    const blob = await api("GET", `/api/v1/applications/${encodeURIComponent(applicationId)}/receipt`, {
      accept: "application/pdf",
      query: { lang: lang() },
    });
    openBlob(blob, `receipt-${number}.pdf`);
  } catch (error) {
    slot.replaceChildren(notice("error", t("operator.receipt.pdfFailed", { detail: error.summary || error.title || error.message })));
  }
}

function showReceipt(container, answer, { api, go }) {
  const number = receiptNumberOf(answer);
  const refused = !answer.receipt && Boolean(answer.refusal_receipt);
  const slot = h("div", { "aria-live": "polite" });
  container.replaceChildren(
    h(
      "section",
      { "data-testid": "receipt", class: refused ? "refused" : "accepted" },
      h("h1", { tabindex: "-1" }, t(refused ? "operator.receipt.refused" : "operator.receipt.accepted")),
      h("p", { class: "receipt-number", "data-testid": "receipt-number" }, number),
      slot,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", "data-testid": "print-receipt", "on:click": () => printReceipt(api, answer.application_id, number, slot) }, t("operator.receipt.print")),
        h("a", { class: "button secondary", href: `#/applications/${encodeURIComponent(answer.application_id)}`, "data-testid": "open-application" }, t("operator.receipt.open")),
        h("button", { type: "button", class: "secondary", "on:click": () => go("/applications/new") }, t("operator.receipt.another"))
      )
    )
  );
  container.querySelector("h1").focus();
}

// ---- finding an application -----------------------------------------------------------------------------------

function applicationsTable(rows, services) {
  return table(
    [
      { label: t("operator.col.receipt"), render: (a) => h("a", { href: `#/applications/${encodeURIComponent(a.application_id)}` }, a.receipt_number) },
      { label: t("operator.col.service"), render: (a) => serviceNameOf(services, a.service_id) },
      { label: t("operator.col.applicant"), render: (a) => `${a.applicant_name}${a.applicant_iin ? ` (${a.applicant_iin})` : ""}` },
      { label: t("operator.col.status"), render: (a) => statusText(a.status) },
      { label: t("operator.col.submitted"), render: (a) => fmtDateTime(a.submitted_at) },
    ],
    rows,
    { rowTestId: (a) => `application-${a.receipt_number}` }
  );
}

route("/applications", {
  title: "operator.find.title",
  nav: "operator.nav.find",
  roles: READERS,
  async render(container, params, { api }) {
    const results = h("div", { "aria-live": "polite", "data-testid": "search-results" });
    const form = h(
      "form",
      { "data-testid": "find-form", role: "search", novalidate: true },
      field({ name: "q", label: t("operator.find.query"), hint: t("operator.find.hint"), required: true, attrs: { maxlength: 64, autocomplete: "off" } }),
      h("div", { class: "actions" }, h("button", { type: "submit", "data-testid": "find-submit" }, t("operator.find.submit")))
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const q = form.elements.q.value.trim();
      if (!q) {
        showFieldErrors(form, new ApiError({ status: 0, detail: t("form.required"), fields: { q: t("form.required") } }));
        return;
      }
      try {
        // Twelve digits are an IIN, anything else a receipt number: the API filters by either, within the site.
        const byIin = /^\d{12}$/.test(q);
        const found = await api("GET", "/api/v1/applications", {
          query: byIin ? { applicant_iin: q, limit: SEARCH_LIMIT } : { receipt_number: q, limit: SEARCH_LIMIT },
        });
        const services = await catalogueById(api);
        results.replaceChildren(found.length ? applicationsTable(found, services) : notice("info", t("operator.find.none")));
        const first = results.querySelector("tbody a");
        if (first && found.length === 1) first.focus();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const wrong = error.fields.applicant_iin || error.fields.receipt_number;
        const fields = wrong ? { q: wrong } : {};
        showFieldErrors(form, new ApiError({ ...error, detail: error.detail, fields }));
      }
    });
    container.append(h("h1", {}, t("operator.find.title")), form, results);
  },
});

// ---- one application: facts, receipt, timeline, hand-over ---------------------------------------------------

function facts(a, services) {
  const rows = [
    ["operator.col.receipt", a.receipt_number],
    ["operator.col.service", serviceNameOf(services, a.service_id)],
    ["operator.col.applicant", `${a.applicant_name}${a.applicant_iin ? ` (${a.applicant_iin})` : ""}`],
    ["operator.col.status", statusText(a.status)],
    ["operator.app.channel", tOr(`channel.${a.channel}`, a.channel)],
    ["operator.app.centre", a.centre_id],
    ["operator.app.office", a.registry_office_id],
    ["operator.col.submitted", fmtDateTime(a.submitted_at)],
    ["operator.col.received", fmtDateTime(a.result_received_at)],
    ["operator.app.outcome", a.outcome],
    ["operator.app.record", a.record_number],
    ["operator.app.refusalReason", a.refusal_reason],
    ["operator.app.recallDue", fmtDateTime(a.recall_due_at)],
  ];
  return h(
    "dl",
    { class: "facts", "data-testid": "application-facts" },
    rows.filter(([, v]) => v).map(([k, v]) => [h("dt", {}, t(k)), h("dd", { "data-testid": `fact-${k.split(".").pop()}` }, v)])
  );
}

function eventName(type) {
  // kz.civreg.application.accepted.v1 → application.accepted
  const parts = String(type).split(".").filter((p) => !/^v\d+$/.test(p));
  const short = parts.slice(-2).join(".");
  return tOr(`event.${short}`, short.replace(/[._]/g, " "));
}

function timeline(entries) {
  return h(
    "ol",
    { class: "timeline", "data-testid": "timeline" },
    entries.map((e) =>
      h(
        "li",
        { "data-testid": "timeline-entry" },
        h("time", { datetime: e.at }, fmtDateTime(e.at)),
        " — ",
        h("strong", {}, eventName(e.type)),
        e.actor ? ` (${e.actor})` : ""
      )
    )
  );
}

function handoverForm(a, { api, rerender }) {
  const form = h(
    "form",
    { "data-testid": "handover-form", novalidate: true },
    field({ name: "receipt_number", label: t("operator.handover.receipt"), required: true, attrs: { "data-path": "receipt_number", maxlength: 64, autocomplete: "off" } }),
    field({
      name: "recipient",
      label: t("operator.handover.recipient"),
      required: true,
      value: "applicant",
      options: ["applicant", "representative"].map((v) => ({ value: v, label: t(`operator.handover.recipient.${v}`) })),
      attrs: { "data-path": "recipient" },
    }),
    field({ name: "identity_document_iin", label: t("operator.handover.iin"), required: true, attrs: { "data-path": "identity_document_iin", maxlength: 12, inputmode: "numeric", autocomplete: "off" } }),
    field({ name: "identity_checked", label: t("operator.handover.identityChecked"), type: "checkbox", required: true }),
    h("div", { hidden: true, "data-attorney": "1" }, field({ name: "attorney_checked", label: t("operator.handover.attorneyChecked"), type: "checkbox", required: true })),
    h("div", { class: "actions" }, h("button", { type: "submit", "data-testid": "handover-submit" }, t("operator.handover.submit")))
  );
  form.addEventListener("change", (event) => {
    if (event.target.name === "recipient") form.querySelector("[data-attorney]").hidden = event.target.value !== "representative";
  });
  liveValidation(form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (validateAll(form)) return;
    try {
      await api("POST", `/api/v1/applications/${encodeURIComponent(a.application_id)}/handover`, { body: collect(form) });
      await rerender(notice("success", t("operator.handover.done")));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showFieldErrors(form, error);
    }
  });
  return form;
}

route("/applications/:id", {
  title: "operator.find.title",
  roles: READERS,
  async render(container, { id }, { user, api }) {
    const path = `/api/v1/applications/${encodeURIComponent(id)}`;
    async function draw(message) {
      const [a, entries, services] = await Promise.all([api("GET", path), api("GET", `${path}/timeline`), catalogueById(api)]);
      const slot = h("div", { "aria-live": "polite" }, message || null);
      // Wrapped in one element: replaceChildren would print a skipped (null) section as the text "null".
      container.replaceChildren(h("div", {},
        h("h1", {}, t("operator.app.title", { number: a.receipt_number })),
        slot,
        h(
          "div",
          { class: "actions" },
          a.receipt || a.refusal_receipt
            ? h("button", { type: "button", "data-testid": "print-receipt", "on:click": () => printReceipt(api, a.application_id, a.receipt_number, slot) }, t("operator.receipt.print"))
            : null
        ),
        h("h2", {}, t("operator.app.facts")),
        facts(a, services),
        a.status === "ready_for_pickup" && HANDOVER_ROLES.includes(user.role)
          ? [h("h2", {}, t("operator.handover.title")), handoverForm(a, { api, rerender: draw })]
          : null,
        h("h2", {}, t("operator.app.timeline")),
        timeline(entries)
      ));
    }
    await draw();
  },
});

// ---- the centre's storage (S004 p.9) -------------------------------------------------------------------------

function storedLongerThanAMonth(a, now) {
  if (!a.result_received_at) return false;
  const limit = new Date(a.result_received_at);
  limit.setMonth(limit.getMonth() + STORAGE_MONTHS);
  return limit <= now;
}

route("/storage", {
  title: "operator.storage.title",
  nav: "operator.nav.storage",
  roles: ["centre_operator"],
  async render(container, params, { api }) {
    const slot = h("div", { "aria-live": "polite" });
    async function act(a, step, question) {
      if (question && !(await confirmDialog(question))) return;
      try {
        await api("POST", `/api/v1/applications/${encodeURIComponent(a.application_id)}/${step}`);
        await draw(notice("success", t("operator.storage.done", { number: a.receipt_number })));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        slot.replaceChildren(notice("error", error.summary || error.title));
      }
    }
    const button = (a, step, label, question) =>
      h("button", { type: "button", "data-testid": `${step}-${a.receipt_number}`, "on:click": () => act(a, step, question) }, t(label));
    const columns = (extra) => [
      { label: t("operator.col.receipt"), render: (a) => h("a", { href: `#/applications/${encodeURIComponent(a.application_id)}` }, a.receipt_number) },
      { label: t("operator.col.applicant"), render: (a) => a.applicant_name },
      { label: t("operator.col.received"), render: (a) => fmtDateTime(a.result_received_at) },
      ...extra,
    ];
    async function draw(message) {
      const [ready, returned, recalling] = await Promise.all(
        ["ready_for_pickup", "returned_to_registry", "recall_requested"].map((status) =>
          api("GET", "/api/v1/applications", { query: { status, limit: SEARCH_LIMIT } })
        )
      );
      const now = new Date();
      const atCentre = ready.filter((a) => a.channel === "state_corporation");
      const due = atCentre.filter((a) => storedLongerThanAMonth(a, now));
      const waiting = atCentre.filter((a) => !storedLongerThanAMonth(a, now));
      slot.replaceChildren(message || "");
      container.replaceChildren(
        h("h1", {}, t("operator.storage.title")),
        slot,
        h("h2", {}, t("operator.storage.due")),
        table(
          columns([
            // Overdue says so in words, not by colour alone.
            { label: t("operator.col.due"), render: () => h("span", { class: "overdue" }, t("operator.storage.overdue")) },
            { label: t("operator.col.action"), render: (a) => button(a, "return-to-registry", "operator.storage.return", t("operator.storage.confirmReturn", { number: a.receipt_number })) },
          ]),
          due
        ),
        h("h2", {}, t("operator.storage.returned")),
        table(columns([{ label: t("operator.col.action"), render: (a) => button(a, "recall", "operator.storage.recall") }]), returned),
        h("h2", {}, t("operator.storage.recalling")),
        table(
          columns([
            { label: t("operator.app.recallDue"), render: (a) => fmtDateTime(a.recall_due_at) },
            { label: t("operator.col.action"), render: (a) => button(a, "recalled", "operator.storage.recalled") },
          ]),
          recalling
        ),
        h("h2", {}, t("operator.storage.waiting")),
        table(columns([{ label: t("operator.col.status"), render: (a) => statusText(a.status) }]), waiting)
      );
    }
    await draw();
  },
});

