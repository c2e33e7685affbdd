// secbot web chat. Served from /webchat/static/app.js: the page's Content-Security-Policy
// allows scripts from this origin only, never inline ones. Every piece of text is set with
// textContent, never as HTML, so nothing a person or the bot types can become markup.
(function () {
  "use strict";
  const store = window.localStorage;
  // ?user=me picks who you are (local mode has no sign-in), so SECBOT_ADMINS=web:me works.
  const asked = new URLSearchParams(window.location.search).get("user");
  let userId = asked && /^[A-Za-z0-9_.-]{1,64}$/.test(asked) ? asked : store.getItem("secbot.user");
  if (!userId) { userId = "web-" + Math.random().toString(36).slice(2, 10); }
  store.setItem("secbot.user", userId);
  document.getElementById("whoami").textContent = "Your id: " + userId;
  const nameInput = document.getElementById("name");
  nameInput.value = store.getItem("secbot.name") || "Local user";
  nameInput.addEventListener("change", () => store.setItem("secbot.name", nameInput.value));
  let conversation = "general";
  let after = 0;
  const rendered = new Map();
  const log = document.getElementById("log");
  const errorBox = document.getElementById("error");

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function reqId() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 8); }

  async function post(body) {
    errorBox.textContent = "";
    body.user_id = userId; body.name = nameInput.value; body.conversation = conversation; body.request_id = reqId();
    try {
      const r = await fetch("/webchat/api/send", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const data = await r.json();
      if (!data.ok) errorBox.textContent = data.error || "Something went wrong.";
    } catch (e) { errorBox.textContent = "Can't reach secbot. Is it still running?"; }
    poll();
  }

  function renderMessage(m) {
    const box = el("div", "msg " + (m.sender === "user" ? "user" : "bot") + (m.private ? " private" : ""));
    box.dataset.id = m.id;
    box.appendChild(el("div", "who", m.sender === "user" ? (m.name || "You") : (m.private ? "secbot (only you can see this)" : "secbot")));
    const blocks = m.blocks || [];
    if (!blocks.length) box.appendChild(el("div", "section", m.text));
    for (const b of blocks) {
      if (b.type === "heading") box.appendChild(el("div", "heading", b.text));
      else if (b.type === "section") {
        if (b.text) box.appendChild(el("div", "section", b.text));
        if (b.fields && b.fields.length) {
          const dl = el("dl", "fields");
          for (const f of b.fields) { dl.appendChild(el("dt", "", f.label)); dl.appendChild(el("dd", "", f.value)); }
          box.appendChild(dl);
        }
      } else if (b.type === "actions") {
        const row = el("div", "actions");
        for (const btn of b.buttons) {
          const button = el("button", btn.style || "", btn.label);
          button.type = "button";
          button.addEventListener("click", () => post({ action: { action_id: btn.action_id, value: btn.value, message_id: String(m.id) } }));
          row.appendChild(button);
        }
        box.appendChild(row);
      } else if (b.type === "select") {
        const row = el("div", "actions");
        const sel = el("select");
        sel.appendChild(el("option", "", b.placeholder));
        for (const c of b.choices) { const o = el("option", "", c.label); o.value = c.value; sel.appendChild(o); }
        sel.addEventListener("change", () => { if (sel.value !== b.placeholder) post({ action: { action_id: b.action_id, value: sel.value, message_id: String(m.id) } }); });
        row.appendChild(sel);
        box.appendChild(row);
      } else if (b.type === "context") {
        for (const line of b.lines) box.appendChild(el("div", "context", line));
      } else if (b.type === "divider") box.appendChild(el("hr"));
    }
    if (m.attachment) {
      const a = el("a", "context", "Download " + m.attachment.filename);
      a.href = "data:text/markdown;charset=utf-8," + encodeURIComponent(m.attachment.content);
      a.download = m.attachment.filename;
      box.appendChild(a);
    }
    return box;
  }

  async function poll() {
    try {
      const r = await fetch("/webchat/api/messages?user_id=" + encodeURIComponent(userId) + "&conversation=" + conversation + "&after=" + after);
      const data = await r.json();
      for (const m of data.messages || []) {
        after = Math.max(after, m.version);
        const box = renderMessage(m);
        const old = rendered.get(m.id);
        if (old) old.replaceWith(box); else log.appendChild(box);
        rendered.set(m.id, box);
        log.scrollTop = log.scrollHeight;
      }
    } catch (e) { /* the next poll tries again */ }
  }

  document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => {
    conversation = b.dataset.conv; after = 0; rendered.clear(); log.textContent = "";
    document.querySelectorAll("nav button").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
    poll();
  }));
  document.getElementById("form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = document.getElementById("text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    post({ text: text });
  });
  poll();
  setInterval(poll, 1000);
})();
