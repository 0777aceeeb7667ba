// The supervisor's desk (issue 11): the working calendar (public holidays, transfer decrees, a site's hours with
// its exceptions) and statistics per office, service and period as charts (Chart.js, served locally), with the
// API's CSV as the export.
import { route } from "../app.js";
import { ApiError, openBlob } from "../api.js";
import { addMessages, lang, t } from "../i18n.js";
import { field, fmtDate, h, notice, showFieldErrors, table } from "../ui.js";
import { serviceName, services } from "./registry-common.js";

const CHART_JS = "/desk/vendor/chart.js/dist/chart.umd.js";

addMessages({
  ru: {
    "supervisor.nav.statistics": "Статистика",
    "supervisor.nav.calendar": "Календарь",
    "supervisor.stats.title": "Статистика по органам и услугам",
    "supervisor.stats.from": "С",
    "supervisor.stats.to": "По",
    "supervisor.stats.office": "Орган регистрации",
    "supervisor.stats.service": "Услуга",
    "supervisor.stats.show": "Показать",
    "supervisor.stats.csv": "Выгрузить CSV",
    "supervisor.stats.volume": "Количество результатов",
    "supervisor.stats.time": "Время до результата, часов (медиана и 90-й процентиль)",
    "supervisor.stats.median": "медиана",
    "supervisor.stats.p90": "90-й процентиль",
    "supervisor.stats.onTime": "Доля в срок, %",
    "supervisor.stats.table": "Данные диаграмм",
    "supervisor.stats.count": "Количество",
    "supervisor.stats.medianH": "Медиана, ч",
    "supervisor.stats.p90H": "90-й процентиль, ч",
    "supervisor.stats.onTimePct": "В срок, %",
    "supervisor.stats.none": "За этот период нет завершённых дел.",
    "supervisor.stats.chartFailed": "Диаграммы недоступны; данные — в таблице ниже.",
    "supervisor.cal.title": "Рабочий календарь",
    "supervisor.cal.site": "Орган или центр",
    "supervisor.cal.month": "Месяц",
    "supervisor.cal.show": "Показать",
    "supervisor.cal.days": "Дни месяца: {site}",
    "supervisor.cal.day": "День",
    "supervisor.cal.kind": "Вид дня",
    "supervisor.cal.holiday": "Праздник",
    "supervisor.cal.hours": "Часы работы",
    "supervisor.cal.closed": "не работает",
    "supervisor.cal.kind.working": "рабочий",
    "supervisor.cal.kind.weekend": "выходной",
    "supervisor.cal.kind.holiday": "праздничный",
    "supervisor.cal.kind.transferred_working": "рабочий (перенос)",
    "supervisor.cal.kind.transferred_day_off": "выходной (перенос)",
    "supervisor.cal.overrides": "Постановления о переносе дней",
    "supervisor.cal.country": "Страна",
    "supervisor.cal.reason": "Причина",
    "supervisor.cal.source": "Постановление",
    "supervisor.cal.overrideKind": "Вид",
    "supervisor.cal.override.working": "выходной сделан рабочим",
    "supervisor.cal.override.day_off": "рабочий сделан выходным",
    "supervisor.cal.override.ordinary": "обычный день (отмена праздника)",
    "supervisor.cal.addOverride": "Добавить постановление о переносе",
    "supervisor.cal.added": "Постановление добавлено; пересчитано сроков: {n}",
    "supervisor.cal.exception": "Исключение в графике органа на один день",
    "supervisor.cal.exceptionHours": "Часы работы (например 09:00-13:00), пусто — закрыто",
    "supervisor.cal.exceptionHoursBad": "Часы в виде ЧЧ:ММ-ЧЧ:ММ, через запятую",
    "supervisor.cal.setException": "Сохранить исключение",
    "supervisor.cal.exceptionSaved": "Исключение сохранено; пересчитано сроков: {n}",
    "supervisor.required": "Заполните это поле",
  },
  kk: {
    "supervisor.nav.statistics": "Статистика",
    "supervisor.nav.calendar": "Күнтізбе",
    "supervisor.stats.title": "Органдар мен қызметтер бойынша статистика",
    "supervisor.stats.from": "Бастап",
    "supervisor.stats.to": "Дейін",
    "supervisor.stats.office": "Тіркеу органы",
    "supervisor.stats.service": "Қызмет",
    "supervisor.stats.show": "Көрсету",
    "supervisor.stats.csv": "CSV жүктеу",
    "supervisor.stats.volume": "Нәтижелер саны",
    "supervisor.stats.time": "Нәтижеге дейінгі уақыт, сағат (медиана және 90-процентиль)",
    "supervisor.stats.median": "медиана",
    "supervisor.stats.p90": "90-процентиль",
    "supervisor.stats.onTime": "Мерзімінде орындалған үлес, %",
    "supervisor.stats.table": "Диаграмма деректері",
    "supervisor.stats.count": "Саны",
    "supervisor.stats.medianH": "Медиана, сағ",
    "supervisor.stats.p90H": "90-процентиль, сағ",
    "supervisor.stats.onTimePct": "Мерзімінде, %",
    "supervisor.stats.none": "Бұл кезеңде аяқталған істер жоқ.",
    "supervisor.stats.chartFailed": "Диаграммалар қолжетімсіз; деректер төмендегі кестеде.",
    "supervisor.cal.title": "Жұмыс күнтізбесі",
    "supervisor.cal.site": "Орган немесе орталық",
    "supervisor.cal.month": "Ай",
    "supervisor.cal.show": "Көрсету",
    "supervisor.cal.days": "Айдың күндері: {site}",
    "supervisor.cal.day": "Күн",
    "supervisor.cal.kind": "Күн түрі",
    "supervisor.cal.holiday": "Мереке",
    "supervisor.cal.hours": "Жұмыс уақыты",
    "supervisor.cal.closed": "жұмыс істемейді",
    "supervisor.cal.kind.working": "жұмыс күні",
    "supervisor.cal.kind.weekend": "демалыс",
    "supervisor.cal.kind.holiday": "мереке күні",
    "supervisor.cal.kind.transferred_working": "жұмыс күні (ауыстыру)",
    "supervisor.cal.kind.transferred_day_off": "демалыс (ауыстыру)",
    "supervisor.cal.overrides": "Күндерді ауыстыру туралы қаулылар",
    "supervisor.cal.country": "Ел",
    "supervisor.cal.reason": "Себебі",
    "supervisor.cal.source": "Қаулы",
    "supervisor.cal.overrideKind": "Түрі",
    "supervisor.cal.override.working": "демалыс жұмыс күні болды",
    "supervisor.cal.override.day_off": "жұмыс күні демалыс болды",
    "supervisor.cal.override.ordinary": "қарапайым күн (мерекені болдырмау)",
    "supervisor.cal.addOverride": "Ауыстыру туралы қаулы қосу",
    "supervisor.cal.added": "Қаулы қосылды; қайта есептелген мерзімдер: {n}",
    "supervisor.cal.exception": "Органның бір күнгі кестесіндегі ерекшелік",
    "supervisor.cal.exceptionHours": "Жұмыс уақыты (мысалы 09:00-13:00), бос — жабық",
    "supervisor.cal.exceptionHoursBad": "Уақыт СС:ММ-СС:ММ түрінде, үтір арқылы",
    "supervisor.cal.setException": "Ерекшелікті сақтау",
    "supervisor.cal.exceptionSaved": "Ерекшелік сақталды; қайта есептелген мерзімдер: {n}",
    "supervisor.required": "Бұл өрісті толтырыңыз",
  },
});

let sitesCache = null;
async function sites(api) {
  if (!sitesCache) sitesCache = await api("GET", "/api/v1/sites");
  return sitesCache;
}
function siteName(site) {
  return site ? `${site.name[lang()] || site.name.ru} (${site.id})` : "";
}

// Chart.js from the desk's own vendor folder (no CDN), once per page load; it defines window.Chart.
let chartLoading = null;
function loadChartJs() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!chartLoading) {
    chartLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = CHART_JS;
      script.onload = () => resolve(window.Chart);
      script.onerror = () => {
        chartLoading = null;
        reject(new Error(CHART_JS));
      };
      document.head.append(script);
    });
  }
  return chartLoading;
}

// The offices' calendar day, not the browser's: a browser on UTC (a kiosk, the tests) is still on yesterday for
// the first hours of an Almaty day, and a default period ending yesterday hides everything completed today.
const OFFICE_DAY = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Almaty", year: "numeric", month: "2-digit", day: "2-digit" });

function isoDay(date) {
  return OFFICE_DAY.format(date);
}

function requiredMissing(form) {
  const fields = {};
  for (const input of form.querySelectorAll("[required]")) {
    if (!String(input.value).trim()) fields[input.name] = t("supervisor.required");
  }
  return Object.keys(fields).length ? new ApiError({ status: 422, detail: t("supervisor.required"), fields }) : null;
}

const hours = (s) => Math.round((Number(s) / 3600) * 10) / 10;

// A bar's label under the axis, at most two short lines: a service's full name runs to 150 characters, and
// Chart.js, left to rotate a label that long, gives the chart area no width at all (no bars, no y axis). The full
// label is in the tooltip and in the table under the charts.
const TICK_LINE = 22;
function tickLines(text) {
  const words = String(text).split(/\s+/);
  const lines = [""];
  for (const word of words) {
    const line = lines[lines.length - 1];
    if (!line) lines[lines.length - 1] = word;
    else if (line.length + 1 + word.length <= TICK_LINE) lines[lines.length - 1] = `${line} ${word}`;
    else if (lines.length < 2) lines.push(word);
    else {
      lines[1] = `${lines[1]} …`;
      break;
    }
  }
  return lines.map((l) => (l.length > TICK_LINE + 2 ? `${l.slice(0, TICK_LINE)}…` : l));
}

function chartCanvas(id, label) {
  // The canvas is an image to assistive technology; its numbers are in the table that follows (aria-describedby).
  return h(
    "figure",
    { class: "chart" },
    h("figcaption", { id: `${id}-caption` }, label),
    h("div", { class: "chart-box" }, h("canvas", { id, role: "img", "aria-labelledby": `${id}-caption`, "aria-describedby": "stats-table", "data-testid": id }))
  );
}

async function renderStatistics(container, _params, { api }) {
  const [catalogue, allSites] = await Promise.all([services(api), sites(api)]);
  const offices = allSites.filter((s) => s.kind === "registry_office");
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 30 * 86400 * 1000);
  const charts = [];
  const output = h("div", { "data-testid": "stats-output", "aria-live": "polite" });
  const form = h(
    "form",
    { "data-testid": "stats-form", novalidate: true },
    h(
      "fieldset",
      {},
      h("legend", {}, t("supervisor.stats.title")),
      field({ name: "from", label: t("supervisor.stats.from"), type: "date", required: true, value: isoDay(monthAgo) }),
      field({ name: "to", label: t("supervisor.stats.to"), type: "date", required: true, value: isoDay(today) }),
      field({ name: "registry_office_id", label: t("supervisor.stats.office"), options: offices.map((o) => ({ value: o.id, label: siteName(o) })) }),
      field({ name: "service_id", label: t("supervisor.stats.service"), options: catalogue.map((s) => ({ value: s.id, label: serviceName(s) })) }),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", "data-testid": "stats-show" }, t("supervisor.stats.show")),
        h("button", { type: "button", class: "secondary", "data-testid": "stats-csv", "on:click": () => exportCsv() }, t("supervisor.stats.csv"))
      )
    )
  );

  const query = () => ({
    from: form.elements.from.value,
    to: form.elements.to.value,
    registry_office_id: form.elements.registry_office_id.value,
    service_id: form.elements.service_id.value,
  });

  async function exportCsv() {
    const problem = requiredMissing(form);
    if (problem) return showFieldErrors(form, problem);
    try {
      const q = query();
      const blob = await api("GET", "/api/v1/statistics", { query: { ...q, format: "csv" }, accept: "text/csv" });
      openBlob(blob, `statistics-${q.from}-${q.to}.csv`);
    } catch (error) {
      if (error instanceof ApiError) showFieldErrors(form, error);
      else throw error;
    }
  }

  async function show() {
    const problem = requiredMissing(form);
    if (problem) return showFieldErrors(form, problem);
    let data;
    try {
      data = await api("GET", "/api/v1/statistics", { query: query() });
    } catch (error) {
      if (error instanceof ApiError) return showFieldErrors(form, error);
      throw error;
    }
    form.querySelector(".error-summary")?.remove();
    for (const chart of charts.splice(0)) chart.destroy();
    const items = data.items || [];
    const label = (i) => `${i.registry_office_id} · ${serviceName(catalogue.find((s) => s.id === i.service_id), i.service_id)}`;
    const dataTable = table(
      [
        { label: t("supervisor.stats.office"), key: "registry_office_id" },
        { label: t("supervisor.stats.service"), render: (i) => serviceName(catalogue.find((s) => s.id === i.service_id), i.service_id) },
        { label: t("supervisor.stats.count"), key: "count" },
        { label: t("supervisor.stats.medianH"), render: (i) => hours(i.median_seconds_to_result) },
        { label: t("supervisor.stats.p90H"), render: (i) => hours(i.p90_seconds_to_result) },
        { label: t("supervisor.stats.onTimePct"), render: (i) => Math.round(i.share_on_time * 1000) / 10 },
      ],
      items,
      { caption: t("supervisor.stats.table"), rowTestId: (i) => `stats-row-${i.registry_office_id}-${i.service_id}` }
    );
    dataTable.id = "stats-table";
    if (!items.length) {
      output.replaceChildren(notice("info", t("supervisor.stats.none")), dataTable);
      return;
    }
    output.replaceChildren(
      h(
        "div",
        { class: "charts" },
        chartCanvas("chart-volume", t("supervisor.stats.volume")),
        chartCanvas("chart-time", t("supervisor.stats.time")),
        chartCanvas("chart-on-time", t("supervisor.stats.onTime"))
      ),
      dataTable
    );
    let Chart;
    try {
      Chart = await loadChartJs();
    } catch {
      output.prepend(notice("warning", t("supervisor.stats.chartFailed")));
      return;
    }
    const labels = items.map(label);
    // Short tick labels, never rotated (see tickLines); no animation, so what is on screen (or in a screenshot, or
    // on paper) is the whole chart at once.
    const x = { ticks: { autoSkip: false, maxRotation: 0, callback(value) { return tickLines(this.getLabelForValue(value)); } } };
    // Colours of AA contrast on white, told apart also by the legend's words.
    const bar = (canvasId, datasets, y) =>
      charts.push(
        new Chart(output.querySelector(`#${canvasId}`), {
          type: "bar",
          data: { labels, datasets },
          options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { x, y: { beginAtZero: true, ...y } } },
        })
      );
    bar("chart-volume", [{ label: t("supervisor.stats.count"), data: items.map((i) => i.count), backgroundColor: "#0b4f8a" }], {
      ticks: { precision: 0 },
    });
    bar("chart-time", [
      { label: t("supervisor.stats.median"), data: items.map((i) => hours(i.median_seconds_to_result)), backgroundColor: "#0b4f8a" },
      { label: t("supervisor.stats.p90"), data: items.map((i) => hours(i.p90_seconds_to_result)), backgroundColor: "#a4001d" },
    ]);
    bar("chart-on-time", [{ label: t("supervisor.stats.onTimePct"), data: items.map((i) => Math.round(i.share_on_time * 1000) / 10), backgroundColor: "#0f5f2a" }], {
      max: 100,
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await show();
  });
  container.append(h("h1", {}, t("supervisor.stats.title")), form, output);
  // Drawn once the page is in the document: Chart.js measures its box, which a detached page does not have.
  setTimeout(() => show().catch((error) => output.replaceChildren(notice("error", error.detail || String(error)))), 0);
}

// -- the working calendar --

function kindLabel(kind) {
  const key = `supervisor.cal.kind.${kind}`;
  const text = t(key);
  return text === key ? kind : text;
}

function parseHours(text) {
  const trimmed = text.trim();
  if (!trimmed) return [];
  const intervals = [];
  for (const part of trimmed.split(",")) {
    const m = /^\s*(\d{2}:\d{2})\s*[-–]\s*(\d{2}:\d{2})\s*$/.exec(part);
    if (!m) return null;
    intervals.push([m[1], m[2]]);
  }
  return intervals;
}

async function renderCalendar(container, _params, { api, user }) {
  const allSites = await sites(api);
  const month = isoDay(new Date()).slice(0, 7);
  const daysOut = h("div", { "data-testid": "calendar-days", "aria-live": "polite" });
  const overridesOut = h("div", { "data-testid": "calendar-overrides" });
  const pick = h(
    "form",
    { "data-testid": "calendar-form", novalidate: true },
    h(
      "fieldset",
      {},
      h("legend", {}, t("supervisor.cal.title")),
      field({
        name: "site_id",
        label: t("supervisor.cal.site"),
        required: true,
        options: allSites.map((s) => ({ value: s.id, label: siteName(s) })),
        value: user.site || allSites[0]?.id,
      }),
      field({ name: "month", label: t("supervisor.cal.month"), type: "month", required: true, value: month }),
      h("button", { type: "submit", "data-testid": "calendar-show" }, t("supervisor.cal.show"))
    )
  );

  async function showDays() {
    const problem = requiredMissing(pick);
    if (problem) return showFieldErrors(pick, problem);
    const siteId = pick.elements.site_id.value;
    const [y, m] = pick.elements.month.value.split("-").map(Number);
    const from = `${y}-${String(m).padStart(2, "0")}-01`;
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
    const to = `${y}-${String(m).padStart(2, "0")}-${String(last).padStart(2, "0")}`;
    try {
      const days = await api("GET", `/api/v1/sites/${encodeURIComponent(siteId)}/working-days`, { query: { from, to } });
      pick.querySelector(".error-summary")?.remove();
      daysOut.replaceChildren(
        table(
          [
            { label: t("supervisor.cal.day"), render: (d) => fmtDate(d.day) },
            { label: t("supervisor.cal.kind"), render: (d) => kindLabel(d.kind) },
            { label: t("supervisor.cal.holiday"), render: (d) => (d.holiday ? h("strong", {}, d.holiday) : "") },
            { label: t("supervisor.cal.hours"), render: (d) => (d.working ? d.hours.map((x) => x.join("–")).join(", ") : t("supervisor.cal.closed")) },
          ],
          days,
          { caption: t("supervisor.cal.days", { site: siteName(allSites.find((s) => s.id === siteId)) }), rowTestId: (d) => `day-${d.day}` }
        )
      );
    } catch (error) {
      if (error instanceof ApiError) showFieldErrors(pick, error);
      else throw error;
    }
  }

  async function showOverrides() {
    const rows = await api("GET", "/api/v1/calendar/overrides");
    overridesOut.replaceChildren(
      table(
        [
          { label: t("supervisor.cal.country"), key: "country" },
          { label: t("supervisor.cal.day"), render: (o) => fmtDate(String(o.day)) },
          { label: t("supervisor.cal.overrideKind"), render: (o) => t(`supervisor.cal.override.${o.kind}`) },
          { label: t("supervisor.cal.reason"), key: "reason" },
          { label: t("supervisor.cal.source"), key: "source" },
        ],
        rows,
        { caption: t("supervisor.cal.overrides"), rowTestId: (o) => `override-${o.country}-${o.day}` }
      )
    );
  }

  pick.addEventListener("submit", async (event) => {
    event.preventDefault();
    await showDays();
  });
  container.append(h("h1", {}, t("supervisor.cal.title")), pick, daysOut, h("h2", {}, t("supervisor.cal.overrides")), overridesOut);

  if (user.role === "supervisor") {
    const addForm = h(
      "form",
      { "data-testid": "override-form", novalidate: true },
      h(
        "fieldset",
        {},
        h("legend", {}, t("supervisor.cal.addOverride")),
        field({ name: "country", label: t("supervisor.cal.country"), required: true, options: [{ value: "KZ", label: "KZ" }, { value: "KG", label: "KG" }], value: "KZ" }),
        field({ name: "day", label: t("supervisor.cal.day"), type: "date", required: true }),
        field({
          name: "kind",
          label: t("supervisor.cal.overrideKind"),
          required: true,
          options: ["working", "day_off", "ordinary"].map((k) => ({ value: k, label: t(`supervisor.cal.override.${k}`) })),
          value: "working",
        }),
        field({ name: "reason", label: t("supervisor.cal.reason"), required: true, attrs: { maxlength: 500, minlength: 3 } }),
        field({ name: "source", label: t("supervisor.cal.source"), required: true, attrs: { maxlength: 500, minlength: 3 } }),
        h("button", { type: "submit", "data-testid": "override-add" }, t("supervisor.cal.addOverride"))
      )
    );
    addForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const problem = requiredMissing(addForm);
      if (problem) return showFieldErrors(addForm, problem);
      const body = Object.fromEntries(["country", "day", "kind", "reason", "source"].map((n) => [n, addForm.elements[n].value.trim()]));
      try {
        const done = await api("POST", "/api/v1/calendar/overrides", { body });
        addForm.querySelector(".error-summary")?.remove();
        addForm.prepend(notice("success", t("supervisor.cal.added", { n: done.recomputed_deadlines })));
        await Promise.all([showOverrides(), showDays()]);
      } catch (error) {
        if (error instanceof ApiError) showFieldErrors(addForm, error);
        else throw error;
      }
    });
    const exceptionForm = h(
      "form",
      { "data-testid": "exception-form", novalidate: true },
      h(
        "fieldset",
        {},
        h("legend", {}, t("supervisor.cal.exception")),
        field({ name: "site_id", label: t("supervisor.cal.site"), required: true, options: allSites.map((s) => ({ value: s.id, label: siteName(s) })), value: allSites[0]?.id }),
        field({ name: "day", label: t("supervisor.cal.day"), type: "date", required: true }),
        field({ name: "hours", label: t("supervisor.cal.exceptionHours"), attrs: { maxlength: 200 } }),
        field({ name: "reason", label: t("supervisor.cal.reason"), required: true, attrs: { maxlength: 500, minlength: 3 } }),
        h("button", { type: "submit", "data-testid": "exception-set" }, t("supervisor.cal.setException"))
      )
    );
    exceptionForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const problem = requiredMissing(exceptionForm);
      if (problem) return showFieldErrors(exceptionForm, problem);
      const intervals = parseHours(exceptionForm.elements.hours.value);
      if (intervals === null) {
        return showFieldErrors(exceptionForm, new ApiError({ status: 422, detail: t("supervisor.cal.exceptionHoursBad"), fields: { hours: t("supervisor.cal.exceptionHoursBad") } }));
      }
      const siteId = exceptionForm.elements.site_id.value;
      const body = { day: exceptionForm.elements.day.value, hours: intervals, reason: exceptionForm.elements.reason.value.trim() };
      try {
        const done = await api("PUT", `/api/v1/sites/${encodeURIComponent(siteId)}/schedule-exceptions`, { body });
        exceptionForm.querySelector(".error-summary")?.remove();
        exceptionForm.prepend(notice("success", t("supervisor.cal.exceptionSaved", { n: done.recomputed_deadlines })));
        await showDays();
      } catch (error) {
        if (error instanceof ApiError) showFieldErrors(exceptionForm, error);
        else throw error;
      }
    });
    container.append(addForm, exceptionForm);
  }
  await Promise.all([showDays(), showOverrides()]);
}

route("/statistics", {
  title: "supervisor.stats.title",
  nav: "supervisor.nav.statistics",
  roles: ["supervisor", "registry_head"],
  render: renderStatistics,
});

route("/calendar", {
  title: "supervisor.cal.title",
  nav: "supervisor.nav.calendar",
  roles: ["supervisor", "registry_head", "registry_chancellery", "registry_executive", "registry_worker", "centre_operator"],
  render: renderCalendar,
});
