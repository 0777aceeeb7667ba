// The API's problem details in Russian and Kazakh (issue 11). Each field error carries a stable `type` — pydantic's
// code (`missing`, `string_too_long` with its limit in `ctx`) or a check's own (`iin_checksum`) — and a problem its
// `code` (`dependency_unavailable`, `channel_not_offered`): the desk says those in its language and falls back to
// the API's English words for a code it does not know (btkernel.problems, ADR 0032).
import { addMessages, has, t } from "./i18n.js";

addMessages({
  ru: {
    "error.field.missing": "обязательное поле",
    "error.field.string_too_long": "не длиннее {max_length} символов",
    "error.field.string_too_short": "не короче {min_length} символов",
    "error.field.too_long": "не больше {max_length} элементов",
    "error.field.too_short": "не меньше {min_length} элементов",
    "error.field.string_pattern_mismatch": "неверный формат",
    "error.field.string_type": "нужен текст",
    "error.field.int_parsing": "нужно целое число",
    "error.field.int_type": "нужно целое число",
    "error.field.greater_than_equal": "не меньше {ge}",
    "error.field.greater_than": "больше {gt}",
    "error.field.less_than_equal": "не больше {le}",
    "error.field.less_than": "меньше {lt}",
    "error.field.literal_error": "допустимые значения: {expected}",
    "error.field.enum": "допустимые значения: {expected}",
    "error.field.date_parsing": "нужна дата ГГГГ-ММ-ДД",
    "error.field.date_from_datetime_parsing": "нужна дата ГГГГ-ММ-ДД",
    "error.field.date_type": "нужна дата ГГГГ-ММ-ДД",
    "error.field.datetime_parsing": "нужны дата и время",
    "error.field.bool_parsing": "нужно «да» или «нет»",
    "error.field.extra_forbidden": "лишнее поле",
    "error.field.json_invalid": "запрос не является корректным JSON",
    "error.field.iin_format": "ИИН — ровно 12 цифр",
    "error.field.iin_century": "7-я цифра ИИН (век и пол) — от 1 до 6",
    "error.field.iin_birth_date": "первые 6 цифр ИИН — дата рождения ГГММДД",
    "error.field.iin_checksum": "контрольная цифра ИИН не сходится: вероятно, опечатка",
    "error.field.pin_format": "ПИН — ровно 14 цифр",
    "error.field.pin_sex": "1-я цифра ПИН (пол) — 1 (жен.) или 2 (муж.)",
    "error.field.pin_birth_date": "цифры 2–9 ПИН — дата рождения ДДММГГГГ",
    "error.field.service_of_another_country": "услуга другой страны: этот центр её не оказывает",
    "error.field.unknown_service": "неизвестная услуга",
    "error.field.unknown_document": "этого документа нет в перечне услуги",
    "error.problem.invalid_input": "Проверьте поля формы",
    "error.problem.dependency_unavailable": "Сервис временно недоступен. Повторите попытку через несколько секунд.",
    "error.problem.request_timeout": "Сервис не успел ответить. Повторите попытку.",
    "error.problem.channel_not_offered": "Эта услуга не оказывается по этому каналу",
    "error.problem.idempotency_key_reused": "Эта форма уже отправлена с другими данными; откройте новую форму",
    "error.problem.concurrent_change": "Кто-то изменил эти данные одновременно с вами; обновите страницу",
    "error.problem.already_submitted": "Заявление уже подано",
    "error.problem.already_issued": "Результат уже выдан",
    "error.problem.not_ready": "Результат ещё не готов к выдаче",
    "error.problem.receipt_mismatch": "Номер расписки не совпадает",
    "error.problem.identity_mismatch": "ИИН документа, удостоверяющего личность, не совпадает с заявителем",
    "error.problem.eds_revoked": "Сертификат ЭЦП отозван",
    "error.problem.eds_expired": "Срок сертификата ЭЦП истёк",
    "error.problem.eds_iin_mismatch": "ИИН в сертификате ЭЦП не совпадает с заявителем",
    "error.problem.already_registered_dead": "Смерть этого человека уже зарегистрирована",
    "error.problem.power_of_attorney_expired": "Срок доверенности истёк",
    "error.problem.term_error": "Срок не может быть рассчитан",
    "error.problem.wrong_step": "Это действие сейчас недоступно для дела",
    "error.problem.too_early": "Это действие ещё рано выполнять",
    "error.problem.unknown_service": "Неизвестная услуга",
    "error.problem.unknown_document": "Документа нет в перечне услуги",
  },
  kk: {
    "error.field.missing": "міндетті өріс",
    "error.field.string_too_long": "{max_length} таңбадан аспауы керек",
    "error.field.string_too_short": "кемінде {min_length} таңба",
    "error.field.too_long": "{max_length} элементтен аспауы керек",
    "error.field.too_short": "кемінде {min_length} элемент",
    "error.field.string_pattern_mismatch": "пішімі қате",
    "error.field.string_type": "мәтін қажет",
    "error.field.int_parsing": "бүтін сан қажет",
    "error.field.int_type": "бүтін сан қажет",
    "error.field.greater_than_equal": "кемінде {ge}",
    "error.field.greater_than": "{gt} артық болуы керек",
    "error.field.less_than_equal": "{le} аспауы керек",
    "error.field.less_than": "{lt} кем болуы керек",
    "error.field.literal_error": "рұқсат етілген мәндер: {expected}",
    "error.field.enum": "рұқсат етілген мәндер: {expected}",
    "error.field.date_parsing": "ЖЖЖЖ-АА-КК күні қажет",
    "error.field.date_from_datetime_parsing": "ЖЖЖЖ-АА-КК күні қажет",
    "error.field.date_type": "ЖЖЖЖ-АА-КК күні қажет",
    "error.field.datetime_parsing": "күні мен уақыты қажет",
    "error.field.bool_parsing": "«иә» немесе «жоқ» қажет",
    "error.field.extra_forbidden": "артық өріс",
    "error.field.json_invalid": "сұрау дұрыс JSON емес",
    "error.field.iin_format": "ЖСН — дәл 12 цифр",
    "error.field.iin_century": "ЖСН-нің 7-цифры (ғасыр және жыныс) 1-ден 6-ға дейін",
    "error.field.iin_birth_date": "ЖСН-нің алғашқы 6 цифры — туған күні ЖЖААКК",
    "error.field.iin_checksum": "ЖСН-нің бақылау цифры сәйкес емес: цифр қате терілген болуы мүмкін",
    "error.field.pin_format": "ПИН — дәл 14 цифр",
    "error.field.pin_sex": "ПИН-нің 1-цифры (жыныс) — 1 (әйел) немесе 2 (ер)",
    "error.field.pin_birth_date": "ПИН-нің 2–9 цифрлары — туған күні ККААЖЖЖЖ",
    "error.field.service_of_another_country": "басқа елдің қызметі: бұл орталық оны көрсетпейді",
    "error.field.unknown_service": "белгісіз қызмет",
    "error.field.unknown_document": "бұл құжат қызметтің тізбесінде жоқ",
    "error.problem.invalid_input": "Форма өрістерін тексеріңіз",
    "error.problem.dependency_unavailable": "Қызмет уақытша қолжетімсіз. Бірнеше секундтан кейін қайталаңыз.",
    "error.problem.request_timeout": "Қызмет уақытында жауап бермеді. Қайталаңыз.",
    "error.problem.channel_not_offered": "Бұл қызмет осы арна арқылы көрсетілмейді",
    "error.problem.idempotency_key_reused": "Бұл форма басқа деректермен жіберілген; жаңа форманы ашыңыз",
    "error.problem.concurrent_change": "Бұл деректерді сізбен бір уақытта басқа біреу өзгертті; бетті жаңартыңыз",
    "error.problem.already_submitted": "Өтініш бұрын берілген",
    "error.problem.already_issued": "Нәтиже бұрын берілген",
    "error.problem.not_ready": "Нәтиже беруге әлі дайын емес",
    "error.problem.receipt_mismatch": "Қолхат нөмірі сәйкес емес",
    "error.problem.identity_mismatch": "Жеке басын куәландыратын құжаттың ЖСН-і өтініш берушіге сәйкес емес",
    "error.problem.eds_revoked": "ЭЦҚ сертификаты кері қайтарылған",
    "error.problem.eds_expired": "ЭЦҚ сертификатының мерзімі өткен",
    "error.problem.eds_iin_mismatch": "ЭЦҚ сертификатындағы ЖСН өтініш берушіге сәйкес емес",
    "error.problem.already_registered_dead": "Бұл адамның қайтыс болуы бұрын тіркелген",
    "error.problem.power_of_attorney_expired": "Сенімхаттың мерзімі өткен",
    "error.problem.term_error": "Мерзімді есептеу мүмкін емес",
    "error.problem.wrong_step": "Бұл әрекет істің қазіргі кезеңінде қолжетімсіз",
    "error.problem.too_early": "Бұл әрекетті орындауға әлі ерте",
    "error.problem.unknown_service": "Белгісіз қызмет",
    "error.problem.unknown_document": "Құжат қызметтің тізбесінде жоқ",
  },
});

// One field error in the desk's language: by its `type` (with the limits of `ctx`), else the API's reason.
export function fieldMessage(entry) {
  const key = `error.field.${entry.type}`;
  if (entry.type && has(key)) return t(key, entry.ctx || {});
  return entry.reason || entry.message || "";
}

// The summary line of a problem: its `code` in the desk's language; a 422 of field errors says "check the
// fields"; otherwise what the API wrote.
export function problemSummary(data, hasFields) {
  const key = `error.problem.${data.code}`;
  if (data.code && has(key)) return t(key);
  if (data.status === 422 && hasFields && !data.code) return t("error.problem.invalid_input");
  return typeof data.detail === "string" && data.detail ? data.detail : data.title || "";
}
