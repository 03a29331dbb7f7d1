// Field conditions in the browser: evaluates the JSON tree the engine compiles (engine/conditions.py) with the
// engine's semantics, three-valued: true, false, or null (unknown: an operand unfilled, "--" or of the wrong type).
// Standalone native ES module, no dependencies: import { evaluateCondition } from "./condition.js".

const EPS = 1e-9;
const DASH_CHARS = new Set("-－—–―‐‑‒﹣");
const MISSING = Object.freeze({ missing: true });
const NUMBER_RE = /^[+-]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const isMissing = (v) => v === MISSING;

function isDash(v) {
  if (typeof v !== "string") return false;
  const s = v.trim();
  if (!s) return false;
  for (const c of s) if (!DASH_CHARS.has(c)) return false;
  return true;
}

function isUnfilled(v) {
  return v === undefined || v === null || (typeof v === "string" && !v.trim());
}

// A field's value as the engine sees it: numbers and booleans pass, "--"/blank/absent are unknown.
function classify(v) {
  if (v === undefined || v === null) return MISSING;
  if (typeof v === "boolean" || typeof v === "number") return v;
  if (typeof v === "string") return isDash(v) || !v.trim() ? MISSING : v;
  return MISSING;
}

function asNumber(v) {
  if (typeof v === "number") return Number.isFinite(v) ? v : MISSING;
  if (typeof v === "string") {
    const s = v.replace(/,/g, "").trim();
    if (!NUMBER_RE.test(s)) return MISSING;
    const f = Number(s.replace(/_/g, ""));
    return Number.isFinite(f) ? f : MISSING;
  }
  return MISSING;
}

function truth(v) {
  if (typeof v === "boolean" || isMissing(v)) return v;
  if (typeof v === "string") return v.length > 0;
  return v !== 0;
}

const close = (a, b) => Math.abs(a - b) <= EPS * Math.max(1, Math.abs(a), Math.abs(b));

function compareNum(op, a, b) {
  switch (op) {
    case "<=": return a <= b || close(a, b);
    case ">=": return a >= b || close(a, b);
    case "<": return a < b && !close(a, b);
    case ">": return a > b && !close(a, b);
    case "==": return a === b || close(a, b);
    default: return !(a === b || close(a, b));
  }
}

function compare(op, a, b) {
  if (typeof a === "number" && typeof b === "number") return compareNum(op, a, b);
  if (isMissing(a)) return a;
  if (isMissing(b)) return b;
  const eq = op === "==" || op === "!=";
  if (typeof a === "boolean" || typeof b === "boolean") {
    if (typeof a === "boolean" && typeof b === "boolean" && eq) return op === "==" ? a === b : a !== b;
    return eq ? op === "!=" : MISSING;
  }
  if (typeof a === "string" && typeof b === "string") {
    if (op === "==") return a === b;
    if (op === "!=") return a !== b;
    return MISSING;
  }
  const na = asNumber(a);
  const nb = asNumber(b);
  if (isMissing(na) || isMissing(nb)) return eq ? op === "!=" : MISSING;
  return compareNum(op, na, nb);
}

function arith(op, a, b) {
  a = asNumber(a);
  if (isMissing(a)) return a;
  b = asNumber(b);
  if (isMissing(b)) return b;
  if (op === "+") return a + b;
  if (op === "-") return a - b;
  if (op === "*") return a * b;
  return b === 0 ? MISSING : a / b;
}

function and(a, b) {
  if (a !== true && a !== false) a = truth(a);
  if (a === false) return false;
  if (b !== true && b !== false) b = truth(b);
  if (a === true) return b;
  return b === false ? false : a;
}

function or(a, b) {
  if (a !== true && a !== false) a = truth(a);
  if (a === true) return true;
  if (b !== true && b !== false) b = truth(b);
  if (a === false) return b;
  return b === true ? true : a;
}

function call(name, args, values) {
  if (name === "filled" || name === "missing") {
    const raw = values[args[0].field];
    return name === "filled" ? !isUnfilled(raw) : isDash(raw);
  }
  const nums = [];
  for (const node of args) {
    const v = asNumber(ev(node, values));
    if (isMissing(v)) return v;
    nums.push(v);
  }
  if (name === "abs") return Math.abs(nums[0]);
  return name === "min" ? Math.min(...nums) : Math.max(...nums);
}

function ev(node, values) {
  if ("num" in node) return node.num;
  if ("str" in node) return node.str;
  if ("bool" in node) return node.bool;
  if ("field" in node) return classify(values[node.field]);
  if ("neg" in node) {
    const a = asNumber(ev(node.neg, values));
    return isMissing(a) ? a : -a;
  }
  if ("not" in node) {
    const a = truth(ev(node.not, values));
    return isMissing(a) ? a : !a;
  }
  if ("arith" in node) return arith(node.arith, ev(node.l, values), ev(node.r, values));
  if ("cmp" in node) return compare(node.cmp, ev(node.l, values), ev(node.r, values));
  if ("and" in node) {
    const a = ev(node.and[0], values);
    if (a === false || truth(a) === false) return false;
    return and(a, ev(node.and[1], values));
  }
  if ("or" in node) {
    const a = ev(node.or[0], values);
    if (a === true || truth(a) === true) return true;
    return or(a, ev(node.or[1], values));
  }
  if ("call" in node) return call(node.call, node.args, values);
  throw new Error("unknown condition node " + JSON.stringify(node));
}

// true: the field applies (shown and required); false: it does not apply; null: unknown (not yet decidable).
export function evaluateCondition(tree, values) {
  if (!tree) return true;
  const r = ev(tree, values || {});
  if (r === true || r === false) return r;
  if (isMissing(r)) return null;
  const t = truth(r);
  return isMissing(t) ? null : Boolean(t);
}
