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
  // Geometry (graphsvg.py's COLUMN and BOX match): lanes COL apart leave a channel between
  // boxes wide enough for a skip to run down beside the frames' outlines.
  var COL = 184, BOX_W = 150, BOX_H = 34, GAP = 18, HEAD = 16, FOOT = 6, MARGIN = 20, R = 6;
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

  // Shortens a text (its tspans first, then its own words, ending in "…") to fit `room`
  // pixels; the full name stays in the tooltip. Measured once, when first shown: all texts
  // of a placing are measured first, then all are shortened (one layout, not one each).
  var DOTS = 10, toFit = [];
  function fit(text, room) { toFit.push([text, room]); }
  function fitAll() {
    var cuts = toFit.map(function (job) {
      var text = job[0], room = job[1], whole = text.getComputedTextLength();
      if (whole <= room) return null;
      var own = text.firstChild, n = own.nodeValue.length;
      var ownWidth = n ? text.getSubStringLength(0, n) : 0;
      if (ownWidth <= room) return [text, -1];
      while (n > 1 && text.getSubStringLength(0, n) + DOTS > room) n--;
      return [text, n];
    });
    toFit = [];
    cuts.forEach(function (cut) {
      if (cut === null) return;
      Array.prototype.forEach.call(cut[0].querySelectorAll("tspan"), function (t) { t.textContent = ""; });
      var own = cut[0].firstChild;
      if (cut[1] >= 0) own.nodeValue = own.nodeValue.slice(0, cut[1]).replace(/\s+$/, "") + "…";
    });
  }
  function fitBox(g, width) {
    if (g.fitted) return;
    g.fitted = true;
    Array.prototype.forEach.call(g.querySelectorAll("text"), function (t) { fit(t, width - 10); });
  }

  // An orthogonal path through points, its corners rounded.
  function path(points) {
    var d = "M" + points[0][0] + "," + points[0][1];
    for (var k = 1; k < points.length - 1; k++) {
      var p = points[k - 1], q = points[k], s = points[k + 1];
      var r = Math.min(R, Math.abs(q[0] - p[0] + q[1] - p[1]) / 2, Math.abs(s[0] - q[0] + s[1] - q[1]) / 2);
      var ax = q[0] - Math.sign(q[0] - p[0]) * r, ay = q[1] - Math.sign(q[1] - p[1]) * r;
      var bx = q[0] + Math.sign(s[0] - q[0]) * r, by = q[1] + Math.sign(s[1] - q[1]) * r;
      d += " L" + ax + "," + ay + " Q" + q[0] + "," + q[1] + " " + bx + "," + by;
    }
    var last = points[points.length - 1];
    return d + " L" + last[0] + "," + last[1];
  }

  function place() {
    var i, f, n, visible = {}, head = {}, foot = {}, top = {}, bottom = {}, lanes = 1;
    for (f = 0; f < frames.length; f++) {
      var fr = frames[f], outer = fr.parent === -1 ? -1 : foldedAt(fr.parent);
      fr.hidden = outer !== -1;
      fr.folded = !!folded[f] && !fr.hidden;
      fr.el.classList.toggle("hidden", fr.hidden);
      fr.el.classList.toggle("folded", fr.folded);
      if (fr.folded) visible[fr.r0] = true;
    }
    for (i in nodes) {
      n = nodes[i];
      var at = n.frame === -1 ? -1 : foldedAt(n.frame);
      n.rep = at === -1 ? "n" + i : "f" + at;
      n.el.classList.toggle("hidden", at !== -1);
      if (at === -1) { visible[n.r] = true; lanes = Math.max(lanes, n.c + 1); }
    }
    var ranks = Object.keys(visible).map(Number).sort(function (a, b) { return a - b; });
    var position = {};
    ranks.forEach(function (r, k) { position[r] = k; });
    var lastVisible = function (r) { while (r > 0 && !visible[r]) r--; return r; };
    frames.forEach(function (fr) {
      if (fr.hidden || fr.folded) return;
      fr.order = head[fr.r0] = (head[fr.r0] || 0); head[fr.r0]++;
      fr.end = lastVisible(fr.r1);
      fr.endOrder = foot[fr.end] = (foot[fr.end] || 0); foot[fr.end]++;
    });
    var y = MARGIN, band = {};  // band[r]: the free strip's middle just below rank r's row
    ranks.forEach(function (r) {
      top[r] = y + (head[r] || 0) * HEAD;
      bottom[r] = top[r] + BOX_H;
      band[r] = bottom[r] + (foot[r] || 0) * FOOT + GAP / 2;
      y = bottom[r] + (foot[r] || 0) * FOOT + GAP;
    });
    var boxes = {}, row = {};  // row[r]: the visible boxes' [left, right] at rank r
    var occupy = function (rep, r, x, width) {
      boxes[rep] = { x: x + width / 2, r: r, top: top[r], bottom: bottom[r] };
      (row[r] = row[r] || []).push([x, x + width]);
    };
    for (i in nodes) {
      n = nodes[i];
      if (n.rep.charAt(0) !== "n") continue;
      var x = MARGIN + n.c * COL;
      n.el.setAttribute("transform", "translate(" + x + "," + top[n.r] + ")");
      fitBox(n.el, BOX_W);
      occupy(n.rep, n.r, x, BOX_W);
    }
    frames.forEach(function (fr, f) {
      if (fr.hidden) return;
      var x0 = MARGIN + fr.c0 * COL, width = (fr.c1 - fr.c0) * COL + BOX_W;
      lanes = Math.max(lanes, fr.c1 + 1);
      if (fr.folded) {
        var box = fr.el.querySelector("g.box");
        box.setAttribute("transform", "translate(" + x0 + "," + top[fr.r0] + ")");
        box.querySelector("rect").setAttribute("width", width);
        fitBox(box, width);
        occupy("f" + f, fr.r0, x0, width);
        return;
      }
      var inset = Math.max(2, 10 - 3 * fr.depth), outline = fr.el.querySelector("rect.outline");
      var y0 = top[fr.r0] - (head[fr.r0] - fr.order) * HEAD;
      var y1 = bottom[fr.end] + (foot[fr.end] - fr.endOrder) * FOOT;
      outline.setAttribute("x", x0 - inset); outline.setAttribute("width", width + 2 * inset);
      outline.setAttribute("y", y0); outline.setAttribute("height", y1 - y0);
      var label = fr.el.querySelector("text.label");
      label.setAttribute("x", x0 - inset + 4); label.setAttribute("y", y0 + 12);
      if (!fr.fitted) { fr.fitted = true; fit(label, width + 2 * inset - 8); }
    });
    svg.setAttribute("height", y + MARGIN);
    svg.setAttribute("width", 2 * MARGIN + lanes * COL);
    fitAll();

    // Is x clear of every box in the rows strictly between ranks a and b?
    var clear = function (x, a, b) {
      for (var k = position[a] + 1; k < position[b]; k++) {
        var boxesAt = row[ranks[k]] || [];
        for (var j = 0; j < boxesAt.length; j++)
          if (x > boxesAt[j][0] - 4 && x < boxesAt[j][1] + 4) return false;
      }
      return true;
    };
    // Skips that must leave their lanes run down the channels between lanes, side by side.
    var channels = {};
    var channel = function (s, t) {
      var lane = Math.floor((s.x - MARGIN) / COL), tries = [];
      for (var k = 0; k <= lanes; k++) tries.push(lane + k, lane - 1 - k);
      for (k = 0; k < tries.length; k++) {
        var c = tries[k], x = MARGIN + c * COL + BOX_W + (COL - BOX_W) / 2;
        if (c < 0 || c >= lanes || !clear(x, s.r, t.r)) continue;
        var used = channels[c] = channels[c] || [], slot = 0;
        while (used.some(function (u) { return u[2] === slot && u[0] < t.top && s.bottom < u[1]; })) slot++;
        used.push([s.bottom, t.top, slot]);
        var off = Math.min(3 * Math.ceil(slot / 2), 6);
        return x + (slot % 2 ? -off : off);
      }
      return MARGIN + lanes * COL - (COL - BOX_W) / 2;  // right of everything
    };
    var drawn = [], seen = {};
    data.edges.forEach(function (e) {
      var a = nodes[e[0]].rep, b = nodes[e[1]].rep, key = a + ">" + b;
      if (a === b || seen[key]) return;
      seen[key] = true;
      var s = boxes[a], t = boxes[b], points;
      var below = band[s.r], above = band[ranks[position[t.r] - 1]];
      if (Math.abs(s.x - t.x) < 1 && clear(s.x, s.r, t.r)) points = [[s.x, s.bottom], [t.x, t.top]];
      else if (clear(s.x, s.r, t.r))  // down its own lane, then across just above the target
        points = [[s.x, s.bottom], [s.x, above], [t.x, above], [t.x, t.top]];
      else if (clear(t.x, s.r, t.r))  // across just below the source, then down the target's lane
        points = [[s.x, s.bottom], [s.x, below], [t.x, below], [t.x, t.top]];
      else {
        var x = channel(s, t);
        points = [[s.x, s.bottom], [s.x, below], [x, below], [x, above], [t.x, above], [t.x, t.top]];
      }
      drawn.push('<path d="' + path(points) + '"/>');
    });
    edgeLayer.innerHTML = drawn.join("");
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
