// The registry office's desk (issue 11): the worklist with each case's legal term, and the case page offering
// exactly the actions the registry says the signed-in role may take now (`allowed_actions` of GET /cases/{id},
// computed by registry.domain.case_actions — never decided here).
import { route } from "../app.js";
import { ApiError } from "../api.js";
import { addMessages, t } from "../i18n.js";
import { field, fmtDateTime, h, notice, showFieldErrors, table } from "../ui.js";
import { serviceName, services, statusLabel } from "./registry-common.js";

export const REGISTRY_ROLES = ["registry_chancellery", "registry_head", "registry_executive", "registry_worker"];

addMessages({
  ru: {
    "registry.nav.worklist": "Рабочий список",
    "registry.worklist.title": "Рабочий список канцелярии",
    "registry.worklist.filters": "Фильтры",
    "registry.worklist.service": "Услуга",
    "registry.worklist.executive": "Исполнитель",
    "registry.worklist.due": "Срок",
    "registry.worklist.due.today": "истекает сегодня",
    "registry.worklist.due.overdue": "просрочен",
    "registry.worklist.mine": "Только мои дела",
    "registry.worklist.apply": "Показать",
    "registry.worklist.caption": "Открытые дела, самые срочные первыми: {count}",
    "registry.col.receipt": "Номер расписки",
    "registry.col.service": "Услуга",
    "registry.col.applicant": "Заявитель",
    "registry.col.status": "Этап",
    "registry.col.executive": "Исполнитель",
    "registry.col.deadline": "Срок рассмотрения",
    "registry.col.left": "Осталось",
    "registry.col.workingLeft": "Осталось рабочего времени",
    "registry.col.urgency": "Срочность",
    "registry.urgency.overdue": "Просрочено",
    "registry.urgency.today": "Срок сегодня",
    "registry.urgency.ok": "В срок",
    "registry.left.late": "просрочено на {time}",
    "registry.unit.d": "{n} д",
    "registry.unit.h": "{n} ч",
    "registry.unit.m": "{n} мин",
    "registry.case.title": "Дело",
    "registry.case.heading": "Дело по расписке {number}",
    "registry.case.summary": "Сведения о деле",
    "registry.case.applicant": "Заявитель",
    "registry.case.applicantIin": "ИИН заявителя",
    "registry.case.service": "Услуга",
    "registry.case.channel": "Канал",
    "registry.case.status": "Этап",
    "registry.case.opened": "Дело открыто",
    "registry.case.term": "Срок рассмотрения",
    "registry.case.due": "Истекает",
    "registry.case.left": "Осталось",
    "registry.case.executive": "Исполнитель",
    "registry.case.record": "Актовая запись",
    "registry.case.noExecutive": "не назначен",
    "registry.case.actions": "Действия",
    "registry.case.noActions": "На этом этапе дела для вашей роли действий нет.",
    "registry.case.history": "История дела",
    "registry.case.back": "К рабочему списку",
    "registry.case.done": "Выполнено: {action}",
    "registry.history.at": "Когда",
    "registry.history.what": "Событие",
    "registry.history.who": "Кто",
    "registry.action.chancellery-registration": "Зарегистрировать в канцелярии и передать руководителю",
    "registry.action.resolution": "Наложить резолюцию",
    "registry.action.registration-date": "Назначить дату регистрации",
    "registry.action.third-party-notice": "Отметить уведомление третьего лица",
    "registry.action.extension": "Продлить срок рассмотрения",
    "registry.action.registration": "Зарегистрировать акт",
    "registry.action.refusal": "Подготовить мотивированный отказ",
    "registry.action.signature": "Подписать результат",
    "registry.action.dispatch": "Выдать / направить результат",
    "registry.field.executive_id": "Исполнитель",
    "registry.field.instruction": "Поручение",
    "registry.field.instruction.default": "Рассмотреть и зарегистрировать",
    "registry.field.registration_on": "Дата регистрации",
    "registry.field.party": "Кому направлено уведомление",
    "registry.field.reason": "Основание",
    "registry.field.days": "На сколько календарных дней (не более 30)",
    "registry.field.child_iin": "ИИН ребёнка (если уже присвоен)",
    "registry.field.required": "Заполните это поле",
    "registry.event.opened": "Дело открыто",
    "registry.event.registered-in-chancellery": "Зарегистрировано в канцелярии",
    "registry.event.resolution-imposed": "Наложена резолюция",
    "registry.event.review-extended": "Срок продлён",
    "registry.event.third-party-notified": "Третье лицо уведомлено",
    "registry.event.registration-date-assigned": "Назначена дата регистрации",
    "registry.event.act-registered": "Акт зарегистрирован",
    "registry.event.refusal-prepared": "Подготовлен отказ",
    "registry.event.result-signed": "Результат подписан",
    "registry.event.result-sent": "Результат выдан / направлен",
  },
  kk: {
    "registry.nav.worklist": "Жұмыс тізімі",
    "registry.worklist.title": "Кеңсенің жұмыс тізімі",
    "registry.worklist.filters": "Сүзгілер",
    "registry.worklist.service": "Қызмет",
    "registry.worklist.executive": "Орындаушы",
    "registry.worklist.due": "Мерзім",
    "registry.worklist.due.today": "бүгін аяқталады",
    "registry.worklist.due.overdue": "мерзімі өткен",
    "registry.worklist.mine": "Тек менің істерім",
    "registry.worklist.apply": "Көрсету",
    "registry.worklist.caption": "Ашық істер, ең шұғылы бірінші: {count}",
    "registry.col.receipt": "Қолхат нөмірі",
    "registry.col.service": "Қызмет",
    "registry.col.applicant": "Өтініш беруші",
    "registry.col.status": "Кезең",
    "registry.col.executive": "Орындаушы",
    "registry.col.deadline": "Қарау мерзімі",
    "registry.col.left": "Қалды",
    "registry.col.workingLeft": "Қалған жұмыс уақыты",
    "registry.col.urgency": "Шұғылдығы",
    "registry.urgency.overdue": "Мерзімі өтті",
    "registry.urgency.today": "Мерзімі бүгін",
    "registry.urgency.ok": "Мерзімінде",
    "registry.left.late": "{time} кешікті",
    "registry.unit.d": "{n} күн",
    "registry.unit.h": "{n} сағ",
    "registry.unit.m": "{n} мин",
    "registry.case.title": "Іс",
    "registry.case.heading": "{number} қолхаты бойынша іс",
    "registry.case.summary": "Іс туралы мәліметтер",
    "registry.case.applicant": "Өтініш беруші",
    "registry.case.applicantIin": "Өтініш берушінің ЖСН",
    "registry.case.service": "Қызмет",
    "registry.case.channel": "Арна",
    "registry.case.status": "Кезең",
    "registry.case.opened": "Іс ашылды",
    "registry.case.term": "Қарау мерзімі",
    "registry.case.due": "Аяқталады",
    "registry.case.left": "Қалды",
    "registry.case.executive": "Орындаушы",
    "registry.case.record": "Акт жазбасы",
    "registry.case.noExecutive": "тағайындалмаған",
    "registry.case.actions": "Әрекеттер",
    "registry.case.noActions": "Істің бұл кезеңінде сіздің рөліңізге әрекет жоқ.",
    "registry.case.history": "Іс тарихы",
    "registry.case.back": "Жұмыс тізіміне",
    "registry.case.done": "Орындалды: {action}",
    "registry.history.at": "Қашан",
    "registry.history.what": "Оқиға",
    "registry.history.who": "Кім",
    "registry.action.chancellery-registration": "Кеңседе тіркеп, басшыға беру",
    "registry.action.resolution": "Бұрыштама қою",
    "registry.action.registration-date": "Тіркеу күнін тағайындау",
    "registry.action.third-party-notice": "Үшінші тұлғаны хабардар етуді белгілеу",
    "registry.action.extension": "Қарау мерзімін ұзарту",
    "registry.action.registration": "Актіні тіркеу",
    "registry.action.refusal": "Дәлелді бас тарту дайындау",
    "registry.action.signature": "Нәтижеге қол қою",
    "registry.action.dispatch": "Нәтижені беру / жіберу",
    "registry.field.executive_id": "Орындаушы",
    "registry.field.instruction": "Тапсырма",
    "registry.field.instruction.default": "Қарап, тіркеу",
    "registry.field.registration_on": "Тіркеу күні",
    "registry.field.party": "Хабарлама кімге жіберілді",
    "registry.field.reason": "Негіздеме",
    "registry.field.days": "Неше күнтізбелік күнге (30-дан аспайды)",
    "registry.field.child_iin": "Баланың ЖСН (берілген болса)",
    "registry.field.required": "Бұл өрісті толтырыңыз",
    "registry.event.opened": "Іс ашылды",
    "registry.event.registered-in-chancellery": "Кеңседе тіркелді",
    "registry.event.resolution-imposed": "Бұрыштама қойылды",
    "registry.event.review-extended": "Мерзім ұзартылды",
    "registry.event.third-party-notified": "Үшінші тұлға хабардар етілді",
    "registry.event.registration-date-assigned": "Тіркеу күні тағайындалды",
    "registry.event.act-registered": "Акт тіркелді",
    "registry.event.refusal-prepared": "Бас тарту дайындалды",
    "registry.event.result-signed": "Нәтижеге қол қойылды",
    "registry.event.result-sent": "Нәтиже берілді / жіберілді",
  },
});

// "2 д 3 ч", "45 мин"; the sign is said in words by the caller (colour is never the only signal).
export function duration(seconds) {
  const s = Math.abs(Number(seconds) || 0);
  const d = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [];
  if (d) parts.push(t("registry.unit.d", { n: d }));
  if (hours) parts.push(t("registry.unit.h", { n: hours }));
  if (!d && (m || !hours)) parts.push(t("registry.unit.m", { n: m }));
  return parts.join(" ");
}

function left(seconds) {
  if (seconds === undefined || seconds === null) return "—";
  return seconds < 0 ? t("registry.left.late", { time: duration(seconds) }) : duration(seconds);
}

// The urgency as text and class: "overdue" and "due today" come from the registry's own filters (due=overdue,
// due=today), so the desk and the API agree on where a day ends (Almaty).
function urgency(row, dueToday) {
  if (row.overdue) return h("span", { class: "overdue", "data-testid": "urgency-overdue" }, "⚠ ", t("registry.urgency.overdue"));
  if (dueToday.has(row.case_id)) return h("span", { class: "due-today", "data-testid": "urgency-today" }, "⏰ ", t("registry.urgency.today"));
  return h("span", { "data-testid": "urgency-ok" }, t("registry.urgency.ok"));
}

function executivesOf(rows) {
  return [...new Set(rows.map((r) => r.executive_id).filter(Boolean))].sort();
}

async function renderWorklist(container, _params, { api, user }) {
  const catalogue = await services(api);
  const filters = { service_id: "", executive_id: "", due: "", mine: false };
  const results = h("div", { "data-testid": "worklist-results", "aria-live": "polite" });
  const executiveOptions = new Set();

  const form = h(
    "form",
    { class: "filters no-print", "data-testid": "worklist-filters", "aria-label": t("registry.worklist.filters") },
    h(
      "fieldset",
      {},
      h("legend", {}, t("registry.worklist.filters")),
      field({
        name: "service_id",
        label: t("registry.worklist.service"),
        options: catalogue.map((s) => ({ value: s.id, label: serviceName(s) })),
      }),
      user.role === "registry_executive"
        ? field({ name: "mine", label: t("registry.worklist.mine"), type: "checkbox" })
        : field({ name: "executive_id", label: t("registry.worklist.executive"), options: [] }),
      field({
        name: "due",
        label: t("registry.worklist.due"),
        options: [
          { value: "today", label: t("registry.worklist.due.today") },
          { value: "overdue", label: t("registry.worklist.due.overdue") },
        ],
      }),
      h("button", { type: "submit", "data-testid": "worklist-apply" }, t("registry.worklist.apply"))
    )
  );

  async function load() {
    const query = { service_id: filters.service_id, executive_id: filters.executive_id, due: filters.due };
    if (filters.mine) query.mine = "true";
    const [rows, today, deadlines] = await Promise.all([
      api("GET", "/api/v1/worklist", { query }),
      api("GET", "/api/v1/worklist", { query: { ...query, due: "today" } }),
      api("GET", "/api/v1/deadlines", { query: { service_id: filters.service_id, limit: 1000 } }),
    ]);
    const dueToday = new Set(today.map((r) => r.case_id));
    // The review term's working time left (registry.domain.deadlines.time_left) for each case.
    const working = new Map(deadlines.filter((d) => d.kind === "review").map((d) => [d.case_id, d.working_seconds_left]));
    const select = form.querySelector("select[name=executive_id]");
    if (select) {
      for (const id of executivesOf(rows)) {
        if (executiveOptions.has(id)) continue;
        executiveOptions.add(id);
        select.append(h("option", { value: id }, id));
      }
    }
    const columns = [
      {
        label: t("registry.col.receipt"),
        render: (r) => h("a", { href: `#/cases/${encodeURIComponent(r.case_id)}`, "data-testid": "open-case" }, r.receipt_number),
      },
      { label: t("registry.col.service"), render: (r) => serviceName(catalogue.find((s) => s.id === r.service_id), r.service_id) },
      { label: t("registry.col.applicant"), key: "applicant_name" },
      { label: t("registry.col.status"), render: (r) => statusLabel(r.status) },
      { label: t("registry.col.executive"), render: (r) => r.executive_id || "—" },
      { label: t("registry.col.deadline"), render: (r) => fmtDateTime(r.review_due_at) },
      { label: t("registry.col.left"), render: (r) => left(r.seconds_left) },
      { label: t("registry.col.workingLeft"), render: (r) => left(working.get(r.case_id)) },
      { label: t("registry.col.urgency"), render: (r) => urgency(r, dueToday) },
    ];
    results.replaceChildren(
      table(columns, rows, {
        caption: t("registry.worklist.caption", { count: rows.length }),
        rowTestId: (r) => `case-row-${r.receipt_number}`,
      })
    );
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    filters.service_id = form.elements.service_id.value;
    filters.due = form.elements.due.value;
    filters.executive_id = form.elements.executive_id ? form.elements.executive_id.value : "";
    filters.mine = form.elements.mine ? form.elements.mine.checked : false;
    try {
      await load();
    } catch (error) {
      results.replaceChildren(notice("error", error.detail || error.title || String(error)));
    }
  });
  await load();
  container.append(h("h1", {}, t("registry.worklist.title")), form, results);
}

// -- the case page --

function eventName(type) {
  // kz.civreg.case.resolution-imposed.v1 → resolution-imposed
  const parts = String(type).split(".");
  const name = parts.length >= 2 ? parts[parts.length - 2] : type;
  const key = `registry.event.${name}`;
  const text = t(key);
  return text === key ? name : text;
}

function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, v]) => v !== undefined).map(([k, v, id]) => [h("dt", {}, k), h("dd", id ? { "data-testid": id } : {}, v ?? "—")])
  );
}

function termText(term) {
  if (!term) return "—";
  return `${term.value} ${term.unit} (${term.source})`;
}

// The inputs each action asks for; every one is bounded as the API bounds it.
async function actionFields(name, caseView, { api }) {
  switch (name) {
    case "resolution": {
      // The office's active executives from the gateway's accounts (GET /api/v1/staff: the head's own office);
      // only when that list cannot be had does the head type a user name, which the registry checks anyway.
      let executives = [];
      try {
        executives = (await api("GET", "/api/v1/staff", { query: { role: "registry_executive" } })).items;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
      }
      const executive = executives.length
        ? field({
            name: "executive_id",
            label: t("registry.field.executive_id"),
            required: true,
            options: executives.map((e) => ({ value: e.username, label: `${e.full_name} (${e.username})` })),
            value: caseView.executive_id || executives[0].username,
          })
        : field({ name: "executive_id", label: t("registry.field.executive_id"), required: true, value: caseView.executive_id || "", attrs: { maxlength: 100 } });
      return [
        executive,
        field({ name: "instruction", label: t("registry.field.instruction"), type: "textarea", value: t("registry.field.instruction.default"), attrs: { maxlength: 1000 } }),
      ];
    }
    case "registration-date":
      return [field({ name: "registration_on", label: t("registry.field.registration_on"), type: "date", required: true })];
    case "third-party-notice":
      return [field({ name: "party", label: t("registry.field.party"), required: true, attrs: { maxlength: 500 } })];
    case "extension":
      return [
        field({ name: "reason", label: t("registry.field.reason"), type: "textarea", required: true, attrs: { maxlength: 2000 } }),
        field({ name: "days", label: t("registry.field.days"), type: "number", required: true, value: "30", attrs: { min: 1, max: 30 } }),
      ];
    case "refusal":
      return [field({ name: "reason", label: t("registry.field.reason"), type: "textarea", required: true, attrs: { maxlength: 2000 } })];
    case "registration":
      return caseView.service_id === "birth_registration"
        ? [field({ name: "child_iin", label: t("registry.field.child_iin"), attrs: { maxlength: 12, inputmode: "numeric", pattern: "[0-9]{12}" } })]
        : [];
    default:
      return [];
  }
}

// The body the action's operation takes, from its form (schemas of registry.api.schemas).
function bodyOf(name, form) {
  const value = (n) => (form.elements[n] ? form.elements[n].value.trim() : "");
  switch (name) {
    case "resolution":
      return { executive_id: value("executive_id"), instruction: value("instruction") || t("registry.field.instruction.default") };
    case "registration-date":
      return { registration_on: value("registration_on") };
    case "third-party-notice":
      return { party: value("party") };
    case "extension":
      return { reason: value("reason"), days: Number(value("days")) };
    case "refusal":
      return { reason: value("reason") };
    case "registration":
      return value("child_iin") ? { child_iin: value("child_iin") } : {};
    default:
      return undefined;
  }
}

// Empty required inputs are named at once, in the desk's language, before a request is sent.
function missing(form) {
  const fields = {};
  for (const input of form.querySelectorAll("[required]")) {
    if (!String(input.value).trim()) fields[input.name] = t("registry.field.required");
  }
  return Object.keys(fields).length ? new ApiError({ status: 422, detail: t("registry.field.required"), fields }) : null;
}

async function actionForm(name, caseView, ctx, onDone) {
  const form = h(
    "form",
    { class: "case-action", "data-testid": `action-${name}`, novalidate: true },
    h("fieldset", {}, h("legend", {}, t(`registry.action.${name}`)), await actionFields(name, caseView, ctx), h("button", { type: "submit", "data-testid": `do-${name}` }, t(`registry.action.${name}`)))
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = missing(form);
    if (problem) {
      showFieldErrors(form, problem);
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const updated = await ctx.api("POST", `/api/v1/cases/${encodeURIComponent(caseView.case_id)}/${name}`, { body: bodyOf(name, form) });
      await onDone(updated, name);
    } catch (error) {
      button.disabled = false;
      if (error instanceof ApiError) showFieldErrors(form, error);
      else throw error;
    }
  });
  return form;
}

async function renderCase(container, { id }, ctx) {
  const caseView = await ctx.api("GET", `/api/v1/cases/${encodeURIComponent(id)}`);
  await fillCase(container, caseView, ctx, null);
}

async function fillCase(container, caseView, ctx, done) {
  const catalogue = await services(ctx.api);
  const service = catalogue.find((s) => s.id === caseView.service_id);
  const actions = caseView.allowed_actions || [];
  const forms = [];
  for (const name of actions) {
    forms.push(
      await actionForm(name, caseView, ctx, async (updated, action) => {
        const fresh = h("div", { class: "page-body" });
        await fillCase(fresh, updated, ctx, action);
        container.replaceChildren(...fresh.childNodes);
        container.querySelector("[data-testid=notice-success]")?.focus();
      })
    );
  }
  const history = table(
    [
      { label: t("registry.history.at"), render: (e) => fmtDateTime(e.at) },
      { label: t("registry.history.what"), render: (e) => eventName(e.type) },
      { label: t("registry.history.who"), render: (e) => e.actor || "—" },
    ],
    caseView.history || [],
    { rowTestId: (e) => `history-${e.version}` }
  );
  const urgent = caseView.overdue
    ? h("span", { class: "overdue" }, "⚠ ", t("registry.urgency.overdue"), " — ", left(caseView.seconds_left))
    : left(caseView.seconds_left);
  // replaceChildren prints a skipped (null) part as the text "null": the parts that may be absent are filtered.
  const parts = [
    h("p", { class: "no-print" }, h("a", { href: "#/worklist" }, "← ", t("registry.nav.worklist"))),
    h("h1", {}, t("registry.case.heading", { number: caseView.receipt_number })),
    done ? notice("success", t("registry.case.done", { action: t(`registry.action.${done}`) })) : null,
    h("section", { "aria-labelledby": "case-summary" },
      h("h2", { id: "case-summary" }, t("registry.case.summary")),
      facts([
        [t("registry.case.service"), serviceName(service, caseView.service_id)],
        [t("registry.case.applicant"), caseView.applicant_name],
        [t("registry.case.applicantIin"), caseView.applicant_iin || "—"],
        [t("registry.case.channel"), caseView.channel],
        [t("registry.case.status"), statusLabel(caseView.status), "case-status"],
        [t("registry.case.opened"), fmtDateTime(caseView.opened_at)],
        [t("registry.case.term"), termText(caseView.review_term)],
        [t("registry.case.due"), fmtDateTime(caseView.review_due_at)],
        [t("registry.case.left"), urgent],
        [t("registry.case.executive"), caseView.executive_id || t("registry.case.noExecutive"), "case-executive"],
        [
          t("registry.case.record"),
          caseView.record_id
            ? h("a", { href: `#/records/${encodeURIComponent(caseView.record_id)}`, "data-testid": "case-record" }, caseView.record_number)
            : "—",
        ],
      ])
    ),
    h("section", { "aria-labelledby": "case-actions", class: "no-print", "data-testid": "case-actions" },
      h("h2", { id: "case-actions" }, t("registry.case.actions")),
      forms.length ? forms : h("p", { "data-testid": "no-actions" }, t("registry.case.noActions"))
    ),
    h("section", { "aria-labelledby": "case-history" }, h("h2", { id: "case-history" }, t("registry.case.history")), history),
  ];
  container.replaceChildren(...parts.filter(Boolean));
}

route("/worklist", {
  title: "registry.worklist.title",
  nav: "registry.nav.worklist",
  roles: [...REGISTRY_ROLES, "supervisor"],
  render: renderWorklist,
});

route("/cases/:id", {
  title: "registry.case.title",
  roles: [...REGISTRY_ROLES, "supervisor"],
  render: renderCase,
});
