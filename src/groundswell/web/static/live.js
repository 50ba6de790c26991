/* groundswell: the live trending board, from server-sent events (text only: no HTML is parsed). */
(function () {
  "use strict";
  var table = document.getElementById("board");
  if (!table || typeof EventSource !== "function") { return; }
  var body = table.querySelector("tbody");
  var posts = document.getElementById("board-posts");
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  var es = new EventSource("/api/trending/events?every=2");
  es.addEventListener("board", function (ev) {
    var b = JSON.parse(ev.data);
    while (body.firstChild) { body.removeChild(body.firstChild); }
    b.board.forEach(function (r) {
      var tr = document.createElement("tr");
      cell(tr, String(r.rank), "num");
      var td = cell(tr, "", null);
      var a = document.createElement("a");
      a.href = "/movement?hashtag=" + encodeURIComponent(r.hashtag);
      a.textContent = "#" + r.hashtag;
      td.appendChild(a);
      cell(tr, String(r.accounts), "num");
      cell(tr, String(r.score), "num");
      body.appendChild(tr);
    });
    var empty = document.getElementById("board-empty");
    if (empty && b.board.length) { empty.parentNode.removeChild(empty); }
    if (posts) { posts.textContent = (b.posts || 0).toLocaleString("en"); }
    table.setAttribute("data-updates", String(Number(table.getAttribute("data-updates") || 0) + 1));
  });
})();
