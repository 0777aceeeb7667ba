// What the registry, records and supervisor pages share: the service catalogue (names in the desk's language)
// and the names of a case's stages.
import { addMessages, lang, t } from "../i18n.js";

addMessages({
  ru: {
    "registry.status.opened": "Поступило",
    "registry.status.registered_in_chancellery": "Зарегистрировано в канцелярии",
    "registry.status.under_review": "На рассмотрении у исполнителя",
    "registry.status.date_assigned": "Назначена дата регистрации",
    "registry.status.act_registered": "Акт зарегистрирован, на подписи",
    "registry.status.refusal_prepared": "Отказ подготовлен, на подписи",
    "registry.status.signed": "Подписано, к выдаче",
    "registry.status.result_sent": "Результат выдан / направлен",
  },
  kk: {
    "registry.status.opened": "Түсті",
    "registry.status.registered_in_chancellery": "Кеңседе тіркелді",
    "registry.status.under_review": "Орындаушыда қаралуда",
    "registry.status.date_assigned": "Тіркеу күні тағайындалды",
    "registry.status.act_registered": "Акт тіркелді, қол қоюда",
    "registry.status.refusal_prepared": "Бас тарту дайындалды, қол қоюда",
    "registry.status.signed": "Қол қойылды, беруге дайын",
    "registry.status.result_sent": "Нәтиже берілді / жіберілді",
  },
});

let catalogue = null;

// GET /api/v1/services once per page load: the names of the ten services in Russian and Kazakh.
export async function services(api) {
  if (!catalogue) catalogue = await api("GET", "/api/v1/services");
  return catalogue;
}

export function serviceName(service, fallback = "") {
  if (!service) return fallback;
  return service.names?.[lang()] || service.names?.ru || service.id;
}

export function statusLabel(status) {
  const key = `registry.status.${status}`;
  const text = t(key);
  return text === key ? status : text;
}
