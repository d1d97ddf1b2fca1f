// convcost report: sorts tables, folds groups of the network drawing and places its boxes
// and edges (the layout's ranks and lanes come from Python). No network, no libraries.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cc-data").textContent);

  // --- the layer table: rows come as data (a number's cell as [text, value]); a click on a
  // heading sorts them (numbers largest first, text A-Z; again reverses). A big network's
  // first SHOWN rows are written until all are asked for.
  var SHOWN = 1000, table = document.getElementById("cc-layers"), showAll = false;
  function writeRows() {
    var body = table.tBodies[0], fragment = document.createDocumentFragment();
    var count = showAll ? data.rows.length : Math.min(SHOWN, data.rows.length);
    for (var i = 0; i < count; i++) {
      var tr = document.createElement("tr");
      data.rows[i].forEach(function (cell) {
        var td = document.createElement("td");
        if (typeof cell === "string") td.textContent = cell;
        else { td.textContent = cell[0]; td.className = "num"; if (cell[1] !== null) td.setAttribute("data-v", cell[1]); }
        tr.appendChild(td);
      });
      fragment.appendChild(tr);
    }
    body.textContent = "";
    body.appendChild(fragment);
    var more = document.getElementById("cc-more");
    more.hidden = count === data.rows.length;
    more.firstChild.textContent = "show all " + data.rows.length + " rows (" + count + " shown)";
  }
  function sortRows(k, th) {
    var numeric = th.classList.contains("num");
    var down = th.getAttribute("aria-sort") ? th.getAttribute("aria-sort") === "ascending"
      : numeric && !th.classList.contains("up");
    var key = function (row) {
      var cell = row[k];
      return typeof cell === "string" ? cell : cell[1];
    };
    var keyed = data.rows.map(function (row, i) { return [key(row), i, row]; });
    keyed.sort(function (a, b) {
      if (a[0] === b[0]) return a[1] - b[1];
      if (a[0] === null) return 1;
      if (b[0] === null) return -1;
      var order = a[0] < b[0] ? -1 : 1;
      return down ? -order : order;
    });
    data.rows = keyed.map(function (item) { return item[2]; });
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", down ? "descending" : "ascending");
    writeRows();
  }
  if (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, k) {
      th.addEventListener("click", function () { sortRows(k, th); });
    });
    document.getElementById("cc-more").firstChild.addEventListener("click", function () {
      showAll = true; writeRows();
    });
    writeRows();
  }

  // --- the network drawing
  var svg = document.getElementById("cc-net");
  if (!svg) return;
  var COL = 170, BOX_W = 150, BOX_H = 34, GAP = 18, HEAD = 16, FOOT = 6, MARGIN = 20;
  var num = function (el, name) { return parseInt(el.getAttribute("data-" + name), 10); };
  var frames = Array.prototype.map.call(svg.querySelectorAll("g.frame"), function (el) {
    return { el: el, parent: num(el, "p"), depth: num(el, "d"), r0: num(el, "r0"),
             r1: num(el, "r1"), c0: num(el, "c0"), c1: num(el, "c1") };
  });
  var nodes = {};
  Array.prototype.forEach.call(svg.querySelectorAll("g.node, g.input"), function (el) {
    nodes[num(el, "i")] = { el: el, r: num(el, "r"), c: num(el, "c"), frame: el.hasAttribute("data-f") ? num(el, "f") : -1 };
  });
  var folded = {};
  data.folded.forEach(function (f) { folded[f] = true; });
  var edgeLayer = svg.querySelector("g.edges");

  // The outermost folded frame holding frame f (itself included), or -1.
  function foldedAt(f) {
    var found = -1;
    for (; f !== -1; f = frames[f].parent) if (folded[f]) found = f;
    return found;
  }

  function place() {
    var i, r, f, rank, visible = {}, head = {}, foot = {}, order = {}, endOrder = {}, top = {}, bottom = {};
    var reps = {};
    for (f = 0; f < frames.length; f++) {
      var fr = frames[f], outer = fr.parent === -1 ? -1 : foldedAt(fr.parent);
      fr.hidden = outer !== -1;
      fr.folded = !!folded[f] && !fr.hidden;
      fr.el.classList.toggle("hidden", fr.hidden);
      fr.el.classList.toggle("folded", fr.folded);
      if (fr.folded) visible[fr.r0] = true;
    }
    for (i in nodes) {
      var n = nodes[i], at = n.frame === -1 ? -1 : foldedAt(n.frame);
      n.rep = at === -1 ? "n" + i : "f" + at;
      n.el.classList.toggle("hidden", at !== -1);
      if (at === -1) visible[n.r] = true;
    }
    var ranks = Object.keys(visible).map(Number).sort(function (a, b) { return a - b; });
    var lastVisible = function (r) { while (r > 0 && !visible[r]) r--; return r; };
    frames.forEach(function (fr) {
      if (fr.hidden || fr.folded) return;
      fr.order = head[fr.r0] = (head[fr.r0] || 0); head[fr.r0]++;
      fr.end = lastVisible(fr.r1);
      fr.endOrder = foot[fr.end] = (foot[fr.end] || 0); foot[fr.end]++;
    });
    var y = MARGIN;
    ranks.forEach(function (r) {
      top[r] = y + (head[r] || 0) * HEAD;
      bottom[r] = top[r] + BOX_H;
      y = bottom[r] + (foot[r] || 0) * FOOT + GAP;
    });
    svg.setAttribute("height", y + MARGIN);
    var boxes = {};
    for (i in nodes) {
      n = nodes[i];
      if (n.rep.charAt(0) !== "n") continue;
      var x = MARGIN + n.c * COL;
      n.el.setAttribute("transform", "translate(" + x + "," + top[n.r] + ")");
      boxes[n.rep] = [x + BOX_W / 2, top[n.r], bottom[n.r]];
    }
    frames.forEach(function (fr, f) {
      if (fr.hidden) return;
      var x0 = MARGIN + fr.c0 * COL, width = (fr.c1 - fr.c0) * COL + BOX_W;
      if (fr.folded) {
        var box = fr.el.querySelector("g.box");
        box.setAttribute("transform", "translate(" + x0 + "," + top[fr.r0] + ")");
        box.querySelector("rect").setAttribute("width", width);
        boxes["f" + f] = [x0 + width / 2, top[fr.r0], bottom[fr.r0]];
        return;
      }
      var inset = Math.max(2, 10 - 3 * fr.depth), outline = fr.el.querySelector("rect.outline");
      var y0 = top[fr.r0] - (head[fr.r0] - fr.order) * HEAD;
      var y1 = bottom[fr.end] + (foot[fr.end] - fr.endOrder) * FOOT;
      outline.setAttribute("x", x0 - inset); outline.setAttribute("width", width + 2 * inset);
      outline.setAttribute("y", y0); outline.setAttribute("height", y1 - y0);
      var label = fr.el.querySelector("text.label");
      label.setAttribute("x", x0 - inset + 4); label.setAttribute("y", y0 + 12);
    });
    var paths = [], seen = {};
    data.edges.forEach(function (e) {
      var a = nodes[e[0]].rep, b = nodes[e[1]].rep, key = a + ">" + b;
      if (a === b || seen[key]) return;
      seen[key] = true;
      var s = boxes[a], t = boxes[b], sy = s[2], ty = t[1], d;
      if (Math.abs(s[0] - t[0]) < 1 && ty - sy > BOX_H + 2 * GAP) {
        var bend = s[0] + BOX_W / 2 + 8;  // a skip past boxes in its lane: around their right
        d = "M" + s[0] + "," + sy + " C" + bend + "," + (sy + 30) + " " + bend + "," + (ty - 30) + " " + t[0] + "," + ty;
      } else {
        var mid = (sy + ty) / 2;
        d = "M" + s[0] + "," + sy + " C" + s[0] + "," + mid + " " + t[0] + "," + mid + " " + t[0] + "," + ty;
      }
      paths.push('<path d="' + d + '"/>');
    });
    edgeLayer.innerHTML = paths.join("");
  }

  frames.forEach(function (fr, f) {
    var toggle = function () { folded[f] = !folded[f]; place(); };
    fr.el.querySelector("text.label").addEventListener("click", toggle);
    fr.el.querySelector("g.box").addEventListener("click", toggle);
  });
  var all = function (fold) { return function () { frames.forEach(function (fr, f) { folded[f] = fold; }); place(); }; };
  var foldAll = document.getElementById("cc-fold"), unfoldAll = document.getElementById("cc-unfold");
  if (foldAll) foldAll.addEventListener("click", all(true));
  if (unfoldAll) unfoldAll.addEventListener("click", all(false));
  place();
})();
