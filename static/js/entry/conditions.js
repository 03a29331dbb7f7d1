/* Data-entry page — when a field is shown: a field with a condition is shown (and required) only when its
 * condition is true; unknown (an operand unfilled or "--") hides it. The condition is compiled by the engine
 * into a JSON tree (data.fields[code].condition_tree) and evaluated by ../condition.js with the engine's
 * semantics: there is no second parser in the browser. */

import { evaluateCondition } from "../condition.js";

/** Whether the condition `tree` holds; `get(code)` returns the current reading of a field. */
export function conditionHolds(tree, get) {
  if (!tree) return true;
  const values = new Proxy({}, { get: (_, code) => get(code) });
  return evaluateCondition(tree, values) === true;
}
