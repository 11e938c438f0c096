import { bodyBytes, MAX_BODY_BYTES, OPERATOR, type Question } from "@hyperhive/shared";

/**
 * The system messages questions make: the target agent is asked, the asker is told the outcome,
 * the target is told when a question it owed closed without its answer. Each quotes the
 * question. A message must fit the broker's body cap (a question may be 2000 characters, an
 * answer 4000, each up to four bytes), so the long parts are cut to fit, saying where the whole
 * text is.
 */

/** What a target agent finds in its inbox when asked. */
export function askedMessage(q: Question): string {
  const lines = (quote: string, options: string) => [
    `question #${q.id} from ${q.asker}: "${quote}"`,
    ...(options === "" ? [] : [options]),
    `answer it with answer(${q.id}, "<your answer>")`,
    ...(q.expires_at === null
      ? []
      : [`it expires at ${new Date(q.expires_at).toISOString()} unless answered`]),
  ];
  const options =
    q.options.length === 0
      ? ""
      : `options${q.multi ? " (several may be chosen)" : ""}: ${q.options.map((o) => `"${o}"`).join(", ")}`;
  return fit((a, b) => lines(a, b).join("\n"), q.question, options, `${CUT} (cut to fit)`);
}

/** What the asker finds in its inbox once its question is answered, expired or cancelled. */
export function outcomeMessage(q: Question): string {
  const answer = q.answer ?? `[${q.state}]`;
  return fit(
    (quote, a) => `question #${q.id} to ${q.target}: "${quote}"\nanswer: ${a}`,
    q.question,
    answer,
    `${CUT} (cut; list_my_asks(all: true) has it whole)`,
  );
}

/**
 * What a target agent finds in its inbox when a question it owed closes without its answer
 * (expired, cancelled by its asker or the operator, or its asker left the hive).
 */
export function withdrawnMessage(q: Question): string {
  const by =
    q.answered_by === q.asker
      ? ` by ${q.asker}`
      : q.answered_by === OPERATOR
        ? " by the operator"
        : "";
  return fit(
    (quote, closed) => `question #${q.id} from ${q.asker}: "${quote}"\n${closed}`,
    q.question,
    `closed: [${q.state}]${by}; no answer is needed`,
    CUT,
  );
}

/** Bytes of the question kept before the other part is cut. */
const MIN_QUOTE_BYTES = 400;
const CUT = "…";

/**
 * Builds `build(quote, rest)` within the body cap: as it is when it fits; else the quote is cut
 * first (to no less than {@link MIN_QUOTE_BYTES}), then the rest, ending with `restMarker`.
 */
function fit(
  build: (quote: string, rest: string) => string,
  quote: string,
  rest: string,
  restMarker: string,
): string {
  const whole = build(quote, rest);
  const wholeBytes = bodyBytes(whole);
  if (wholeBytes <= MAX_BODY_BYTES) return whole;
  const quoteBytes = bodyBytes(quote);
  const restBytes = bodyBytes(rest);
  // The frame around the two parts, measured with them in: an empty part may drop a line (and
  // its newline) from the frame, so `build("", "")` would count it short.
  const room = MAX_BODY_BYTES - (wholeBytes - quoteBytes - restBytes);
  const quoteRoom = Math.min(quoteBytes, Math.max(MIN_QUOTE_BYTES, room - restBytes));
  const cutQuote = cutBytes(quote, quoteRoom);
  const restRoom = room - bodyBytes(cutQuote);
  const cutRest = restBytes <= restRoom ? rest : cutBytes(rest, restRoom, restMarker);
  return build(cutQuote, cutRest);
}

/** `s` cut at a character boundary so that it and `marker` take at most `max` bytes. */
export function cutBytes(s: string, max: number, marker = CUT): string {
  if (bodyBytes(s) <= max) return s;
  let room = max - bodyBytes(marker);
  let out = "";
  for (const ch of s) {
    const n = bodyBytes(ch);
    if (n > room) break;
    out += ch;
    room -= n;
  }
  return out + marker;
}
