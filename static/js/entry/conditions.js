/* Data-entry page — when a field is shown: a field with a condition is shown (and required) only when its
 * condition is true; an unknown operand (unfilled or "--") hides it. */

const conditionCache = {};

function tokenize(src) {
  var re = /\s*(?:(\d+(?:\.\d+)?)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(==|!=|<=|>=|<|>|\(|\))|([A-Za-z_][A-Za-z0-9_]*))/y;
  var out = [];
  var pos = 0;
  src = src.trim();
  while (pos < src.length) {
    re.lastIndex = pos;
    var m = re.exec(src);
    if (!m) throw new Error("bad condition");
    if (m[1]) out.push({ t: "num", v: Number(m[1]) });
    else if (m[2]) out.push({ t: "str", v: m[2].slice(1, -1) });
    else if (m[3]) out.push({ t: "op", v: m[3] });
    else out.push({ t: "id", v: m[4] });
    pos = re.lastIndex;
    while (pos < src.length && /\s/.test(src[pos])) pos++;
  }
  return out;
}

// Kleene logic: null = unknown (an operand is unfilled or "--"). A field is shown only when true.
function compileCondition(src) {
  var toks = tokenize(src);
  var i = 0;
  function peek() { return toks[i]; }
  function next() { return toks[i++]; }
  function primary() {
    var t = next();
    if (!t) throw new Error("bad condition");
    if (t.t === "op" && t.v === "(") { var e = orExpr(); next(); return e; }
    if (t.t === "num" || t.t === "str") return function () { return t.v; };
    if (t.v === "true") return function () { return true; };
    if (t.v === "false") return function () { return false; };
    if (t.v === "not") { var inner = notExpr(); return function (get) { var x = truth(inner(get)); return x === null ? null : !x; }; }
    return function (get) { return get(t.v); };
  }
  function notExpr() { return primary(); }
  function comparison() {
    var left = notExpr();
    var t = peek();
    if (t && t.t === "op" && /^(==|!=|<=|>=|<|>)$/.test(t.v)) {
      next();
      var right = notExpr();
      var op = t.v;
      return function (get) {
        var a = left(get), b = right(get);
        if (a === null || b === null || a === "--" || b === "--") return null;
        switch (op) {
          case "==": return a === b;
          case "!=": return a !== b;
          case "<": return a < b;
          case "<=": return a <= b;
          case ">": return a > b;
          default: return a >= b;
        }
      };
    }
    return left;
  }
  function andExpr() {
    var left = comparison();
    while (peek() && peek().t === "id" && peek().v === "and") {
      next();
      var l = left, r = comparison();
      left = (function (l, r) {
        return function (get) {
          var a = truth(l(get));
          if (a === false) return false;
          var b = truth(r(get));
          if (b === false) return false;
          return a === null || b === null ? null : true;
        };
      })(l, r);
    }
    return left;
  }
  function orExpr() {
    var left = andExpr();
    while (peek() && peek().t === "id" && peek().v === "or") {
      next();
      var l = left, r = andExpr();
      left = (function (l, r) {
        return function (get) {
          var a = truth(l(get));
          if (a === true) return true;
          var b = truth(r(get));
          if (b === true) return true;
          return a === null || b === null ? null : false;
        };
      })(l, r);
    }
    return left;
  }
  var fn = orExpr();
  if (i !== toks.length) throw new Error("bad condition");
  return fn;
}

function truth(v) {
  if (v === null || v === undefined || v === "--") return null;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v !== "";
  return !!v;
}


/** Whether condition `src` holds; `get(code)` returns the current reading of a field. */
export function conditionHolds(src, get) {
  if (!src) return true;
  let fn = conditionCache[src];
  if (fn === undefined) {
    try { fn = compileCondition(src); } catch (e) { fn = null; }
    conditionCache[src] = fn;
  }
  if (fn === null) return true;
  return fn(get) === true;
}
