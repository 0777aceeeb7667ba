// Civil-status records (issue 11): search by IIN, names (Kazakh letters too) and number; a record with its history;
// the certificate or справка as a print layout filled from the record (css/print.css, window.print()).
import { route } from "../app.js";
import { ApiError } from "../api.js";
import { addMessages, t } from "../i18n.js";
import { field, fmtDate, fmtDateTime, h, showFieldErrors, table } from "../ui.js";
import { REGISTRY_ROLES } from "./registry.js";

const ROLES = [...REGISTRY_ROLES, "supervisor"];

addMessages({
  ru: {
    "records.nav": "Актовые записи",
    "records.search.title": "Поиск актовых записей",
    "records.search.iin": "ИИН",
    "records.search.iin.hint": "12 цифр: ИИН лица, родителя или стороны",
    "records.search.name": "Фамилия, имя или отчество",
    "records.search.name.hint": "Часть имени, регистр не важен; казахские буквы (ә, ғ, қ, ң, ө, ұ, ү, һ, і) допустимы",
    "records.search.number": "Номер записи",
    "records.search.submit": "Найти",
    "records.search.needOne": "Укажите ИИН, имя или номер записи",
    "records.search.iinFormat": "ИИН — 12 цифр",
    "records.search.nameShort": "Не менее 2 букв",
    "records.search.caption": "Найдено записей: {count}",
    "records.col.number": "Номер записи",
    "records.col.kind": "Вид",
    "records.col.subject": "Лицо",
    "records.col.iin": "ИИН",
    "records.col.registered": "Зарегистрирована",
    "records.col.status": "Статус",
    "records.kind.birth": "о рождении",
    "records.kind.marriage": "о заключении брака",
    "records.kind.divorce": "о расторжении брака",
    "records.kind.death": "о смерти",
    "records.kind.paternity": "об установлении отцовства",
    "records.kind.adoption": "об усыновлении",
    "records.kind.name_change": "о перемене имени",
    "records.status.active": "действует",
    "records.status.annulled": "аннулирована",
    "records.record.title": "Актовая запись",
    "records.record.heading": "Актовая запись {kind} № {number}",
    "records.record.facts": "Сведения записи",
    "records.record.history": "История записи",
    "records.record.certificate": "Свидетельство / справка для печати",
    "records.record.office": "Орган регистрации",
    "records.record.case": "Дело",
    "records.history.at": "Когда",
    "records.history.what": "Событие",
    "records.history.who": "Кто",
    "records.event.birth-registered": "Запись о рождении составлена",
    "records.event.registered": "Запись составлена",
    "records.event.amended": "Внесены изменения",
    "records.event.annulled": "Запись аннулирована",
    "records.field.child": "Ребёнок",
    "records.field.child_sex": "Пол",
    "records.field.sex.male": "мужской",
    "records.field.sex.female": "женский",
    "records.field.birth_date": "Дата рождения",
    "records.field.birth_place": "Место рождения",
    "records.field.iin": "ИИН",
    "records.field.mother": "Мать",
    "records.field.father": "Отец",
    "records.field.subject": "Лицо",
    "records.field.parties": "Другие стороны",
    "records.field.facts": "Обстоятельства",
    "records.cert.title": "Свидетельство для печати",
    "records.cert.print": "Печать",
    "records.cert.back": "К записи",
    "records.cert.country": "Республика Казахстан",
    "records.cert.birth": "Свидетельство о рождении",
    "records.cert.other": "Справка о регистрации акта гражданского состояния ({kind})",
    "records.cert.recordLine": "о чём в книге регистрации актов гражданского состояния произведена запись № {number}",
    "records.cert.registeredOn": "Дата регистрации",
    "records.cert.issuedOn": "Дата выдачи",
    "records.cert.office": "Место государственной регистрации",
    "records.cert.annulled": "Запись аннулирована: документ недействителен",
    "records.cert.signature": "Руководитель органа регистрации _______________   М.П.",
  },
  kk: {
    "records.nav": "Акт жазбалары",
    "records.search.title": "Акт жазбаларын іздеу",
    "records.search.iin": "ЖСН",
    "records.search.iin.hint": "12 сан: тұлғаның, ата-ананың немесе тараптың ЖСН",
    "records.search.name": "Тегі, аты немесе әкесінің аты",
    "records.search.name.hint": "Аттың бөлігі, әріп регистрі маңызды емес; қазақ әріптері (ә, ғ, қ, ң, ө, ұ, ү, һ, і) жарамды",
    "records.search.number": "Жазба нөмірі",
    "records.search.submit": "Табу",
    "records.search.needOne": "ЖСН, атын немесе жазба нөмірін көрсетіңіз",
    "records.search.iinFormat": "ЖСН — 12 сан",
    "records.search.nameShort": "Кемінде 2 әріп",
    "records.search.caption": "Табылған жазбалар: {count}",
    "records.col.number": "Жазба нөмірі",
    "records.col.kind": "Түрі",
    "records.col.subject": "Тұлға",
    "records.col.iin": "ЖСН",
    "records.col.registered": "Тіркелген",
    "records.col.status": "Мәртебесі",
    "records.kind.birth": "туу туралы",
    "records.kind.marriage": "неке қию туралы",
    "records.kind.divorce": "некені бұзу туралы",
    "records.kind.death": "қайтыс болу туралы",
    "records.kind.paternity": "әкелікті анықтау туралы",
    "records.kind.adoption": "бала асырап алу туралы",
    "records.kind.name_change": "атын өзгерту туралы",
    "records.status.active": "қолданыста",
    "records.status.annulled": "жойылған",
    "records.record.title": "Акт жазбасы",
    "records.record.heading": "{kind} акт жазбасы № {number}",
    "records.record.facts": "Жазба мәліметтері",
    "records.record.history": "Жазба тарихы",
    "records.record.certificate": "Басып шығаруға арналған куәлік / анықтама",
    "records.record.office": "Тіркеу органы",
    "records.record.case": "Іс",
    "records.history.at": "Қашан",
    "records.history.what": "Оқиға",
    "records.history.who": "Кім",
    "records.event.birth-registered": "Туу туралы жазба жасалды",
    "records.event.registered": "Жазба жасалды",
    "records.event.amended": "Өзгерістер енгізілді",
    "records.event.annulled": "Жазба жойылды",
    "records.field.child": "Бала",
    "records.field.child_sex": "Жынысы",
    "records.field.sex.male": "ер",
    "records.field.sex.female": "әйел",
    "records.field.birth_date": "Туған күні",
    "records.field.birth_place": "Туған жері",
    "records.field.iin": "ЖСН",
    "records.field.mother": "Анасы",
    "records.field.father": "Әкесі",
    "records.field.subject": "Тұлға",
    "records.field.parties": "Басқа тараптар",
    "records.field.facts": "Мән-жайлар",
    "records.cert.title": "Басып шығаруға арналған куәлік",
    "records.cert.print": "Басып шығару",
    "records.cert.back": "Жазбаға",
    "records.cert.country": "Қазақстан Республикасы",
    "records.cert.birth": "Туу туралы куәлік",
    "records.cert.other": "Азаматтық хал актісін тіркеу туралы анықтама ({kind})",
    "records.cert.recordLine": "бұл туралы азаматтық хал актілерін тіркеу кітабында № {number} жазба жасалды",
    "records.cert.registeredOn": "Тіркелген күні",
    "records.cert.issuedOn": "Берілген күні",
    "records.cert.office": "Мемлекеттік тіркеу орны",
    "records.cert.annulled": "Жазба жойылған: құжат жарамсыз",
    "records.cert.signature": "Тіркеу органының басшысы _______________   М.О.",
  },
});

function kindLabel(kind) {
  const key = `records.kind.${kind}`;
  const text = t(key);
  return text === key ? kind : text;
}

function personName(p) {
  if (!p) return "—";
  const n = p.name || p;
  return [n.surname, n.first_name, n.patronymic].filter(Boolean).join(" ");
}

function sexLabel(sex) {
  const key = `records.field.sex.${sex}`;
  const text = t(key);
  return text === key ? sex : text;
}

// The record's facts as they stand now: what it was made with, with every amendment over it (`content.current`,
// written by the registry's projection after each change).
export function currentFacts(record) {
  const content = record.content || {};
  return { ...content, ...(content.current || {}) };
}

function factList(record) {
  const f = currentFacts(record);
  if (record.kind === "birth") {
    return [
      [t("records.field.child"), personName(f.child_name), "record-child"],
      [t("records.field.child_sex"), sexLabel(f.child_sex)],
      [t("records.field.birth_date"), fmtDate(f.child_birth_date)],
      [t("records.field.birth_place"), f.child_birth_place],
      [t("records.field.iin"), f.child_iin || "—"],
      [t("records.field.mother"), f.mother ? `${personName(f.mother)}${f.mother.iin ? `, ${f.mother.iin}` : ""}` : "—"],
      [t("records.field.father"), f.father ? `${personName(f.father)}${f.father.iin ? `, ${f.father.iin}` : ""}` : "—"],
    ];
  }
  const facts = f.facts && typeof f.facts === "object" ? f.facts : {};
  return [
    [t("records.field.subject"), `${personName(f.subject)}${f.subject?.iin ? `, ${f.subject.iin}` : ""}`, "record-subject"],
    [t("records.field.parties"), (f.parties || []).map((p) => `${personName(p)}${p.iin ? `, ${p.iin}` : ""}`).join("; ") || "—"],
    ...Object.entries(facts).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]),
  ];
}

function dl(pairs, cls = "facts") {
  return h(
    "dl",
    { class: cls },
    pairs.map(([k, v, id]) => [h("dt", {}, k), h("dd", id ? { "data-testid": id } : {}, v ?? "—")])
  );
}

function validate(form) {
  const fields = {};
  const iin = form.elements.iin.value.trim();
  const name = form.elements.name.value.trim();
  const number = form.elements.number.value.trim();
  if (iin && !/^[0-9]{12}$/.test(iin)) fields.iin = t("records.search.iinFormat");
  if (name && name.length < 2) fields.name = t("records.search.nameShort");
  if (!iin && !name && !number) fields.number = t("records.search.needOne");
  return Object.keys(fields).length ? new ApiError({ status: 422, detail: Object.values(fields)[0], fields }) : null;
}

async function renderSearch(container, _params, { api }) {
  const results = h("div", { "data-testid": "record-results", "aria-live": "polite" });
  const form = h(
    "form",
    { "data-testid": "record-search", novalidate: true, role: "search" },
    field({ name: "iin", label: t("records.search.iin"), hint: t("records.search.iin.hint"), attrs: { maxlength: 12, inputmode: "numeric" } }),
    field({ name: "name", label: t("records.search.name"), hint: t("records.search.name.hint"), attrs: { maxlength: 200, lang: "kk" } }),
    field({ name: "number", label: t("records.search.number"), attrs: { maxlength: 200 } }),
    h("button", { type: "submit", "data-testid": "record-search-submit" }, t("records.search.submit"))
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = validate(form);
    if (problem) {
      showFieldErrors(form, problem);
      return;
    }
    const query = {
      iin: form.elements.iin.value.trim(),
      name: form.elements.name.value.trim(),
      number: form.elements.number.value.trim(),
    };
    try {
      const rows = await api("GET", "/api/v1/records", { query });
      form.querySelector(".error-summary")?.remove();
      results.replaceChildren(
        table(
          [
            {
              label: t("records.col.number"),
              render: (r) => h("a", { href: `#/records/${encodeURIComponent(r.record_id)}`, "data-testid": "open-record" }, r.record_number),
            },
            { label: t("records.col.kind"), render: (r) => kindLabel(r.kind) },
            { label: t("records.col.subject"), key: "subject_name" },
            { label: t("records.col.iin"), render: (r) => r.subject_iin || "—" },
            { label: t("records.col.registered"), render: (r) => fmtDateTime(r.registered_at) },
            { label: t("records.col.status"), render: (r) => t(`records.status.${r.status}`) },
          ],
          rows,
          { caption: t("records.search.caption", { count: rows.length }), rowTestId: (r) => `record-row-${r.record_number}` }
        )
      );
    } catch (error) {
      if (error instanceof ApiError) showFieldErrors(form, error);
      else throw error;
    }
  });
  container.append(h("h1", {}, t("records.search.title")), form, results);
}

function eventName(type) {
  const parts = String(type).split(".");
  const name = parts.length >= 2 ? parts[parts.length - 2] : type;
  const key = `records.event.${name}`;
  const text = t(key);
  return text === key ? name : text;
}

async function renderRecord(container, { id }, { api }) {
  const [record, history] = await Promise.all([
    api("GET", `/api/v1/records/${encodeURIComponent(id)}`),
    api("GET", `/api/v1/records/${encodeURIComponent(id)}/history`),
  ]);
  container.append(
    h("h1", {}, t("records.record.heading", { kind: kindLabel(record.kind), number: record.record_number })),
    h(
      "p",
      { class: "actions" },
      h("a", { class: "button", href: `#/records/${encodeURIComponent(id)}/certificate`, "data-testid": "open-certificate" }, t("records.record.certificate"))
    ),
    h("h2", {}, t("records.record.facts")),
    dl([
      [t("records.col.number"), record.record_number, "record-number"],
      [t("records.col.status"), t(`records.status.${record.status}`), "record-status"],
      [t("records.col.registered"), fmtDateTime(record.registered_at)],
      [t("records.record.office"), record.registry_office_id],
      [t("records.record.case"), h("a", { href: `#/cases/${encodeURIComponent(record.case_id)}` }, record.case_id)],
      ...factList(record),
    ]),
    h("h2", {}, t("records.record.history")),
    table(
      [
        { label: t("records.history.at"), render: (e) => fmtDateTime(e.at) },
        { label: t("records.history.what"), render: (e) => eventName(e.type) },
        { label: t("records.history.who"), render: (e) => e.actor || "—" },
      ],
      history,
      { rowTestId: (e) => `record-history-${e.version}` }
    )
  );
}

// The printed document: the form's fields filled from the record, nothing of the desk around it (print.css).
async function renderCertificate(container, { id }, { api }) {
  const record = await api("GET", `/api/v1/records/${encodeURIComponent(id)}`);
  const title = record.kind === "birth" ? t("records.cert.birth") : t("records.cert.other", { kind: kindLabel(record.kind) });
  const today = new Date().toISOString();
  container.append(
    h("h1", { class: "no-print" }, t("records.cert.title")),
    h(
      "div",
      { class: "actions no-print" },
      h("button", { type: "button", "data-testid": "print", "on:click": () => window.print() }, t("records.cert.print")),
      h("a", { class: "button secondary", href: `#/records/${encodeURIComponent(id)}` }, t("records.cert.back"))
    ),
    h(
      "article",
      { class: "print-document certificate", "data-testid": "certificate", "aria-label": title },
      // Printed too: an annulled record's document says so on the sheet itself.
      record.status !== "active" ? h("p", { class: "cert-annulled", role: "note" }, "⚠ ", t("records.cert.annulled")) : null,
      h("p", { class: "cert-country" }, t("records.cert.country")),
      h("h2", { class: "cert-title" }, title),
      dl(factList(record), "cert-fields"),
      h("p", { class: "cert-record-line", "data-testid": "certificate-number" }, t("records.cert.recordLine", { number: record.record_number })),
      dl(
        [
          [t("records.cert.registeredOn"), fmtDate(record.registered_at)],
          [t("records.cert.office"), record.registry_office_id],
          [t("records.cert.issuedOn"), fmtDate(today)],
        ],
        "cert-fields"
      ),
      h("p", { class: "cert-signature" }, t("records.cert.signature"))
    )
  );
}

route("/records", { title: "records.search.title", nav: "records.nav", roles: ROLES, render: renderSearch });
route("/records/:id", { title: "records.record.title", roles: ROLES, render: renderRecord });
route("/records/:id/certificate", { title: "records.cert.title", roles: ROLES, render: renderCertificate });
