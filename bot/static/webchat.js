// secbot web chat. Served from /webchat/static/app.js: the page's Content-Security-Policy
// allows scripts from this origin only, never inline ones. Every piece of text is set with
// textContent, never as HTML, so nothing a person or the bot types can become markup.
(function () {
  "use strict";
  const store = window.localStorage;
  // A deployment signs people in with a secret each (pasted once, kept in sessionStorage,
  // so it goes when the tab closes). Development mode has no sign-in: the page says who
  // you are, and ?user=me picks that id, so SECBOT_ADMINS=web:me works.
  const tab = window.sessionStorage;
  let secret = tab.getItem("secbot.secret");
  let signInNeeded = false;
  let userId = null;
  const nameInput = document.getElementById("name");
  let conversation = "general";
  let after = 0;
  let timer = null;
  const rendered = new Map();
  const log = document.getElementById("log");
  const errorBox = document.getElementById("error");
  const signInForm = document.getElementById("signin");
  const signInError = document.getElementById("signin-error");

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function reqId() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 8); }
  // A send that got no answer (secbot may have taken it and died, or be still at it) is
  // sent again with the same request id, so secbot handles it once whatever happened.
  let unsent = null;
  function authHeaders() { return secret ? { "Authorization": "Bearer " + secret } : {}; }

  function showChat(who) {
    document.getElementById("whoami").textContent = who;
    signInForm.hidden = true;
    document.getElementById("chat").hidden = false;
    document.querySelector("nav").hidden = false;
    document.getElementById("signout").hidden = !signInNeeded;
    document.getElementById("name-label").hidden = signInNeeded;
    if (timer === null) { poll(); timer = setInterval(poll, 1000); }
  }

  function showSignIn(message) {
    if (timer !== null) { clearInterval(timer); timer = null; }
    secret = null; tab.removeItem("secbot.secret");
    document.getElementById("chat").hidden = true;
    document.querySelector("nav").hidden = true;
    document.getElementById("signout").hidden = true;
    document.getElementById("whoami").textContent = "";
    signInForm.hidden = false;
    signInError.textContent = message || "";
    document.getElementById("secret").focus();
  }

  // A 401 from any call: the secret is missing or wrong (or was taken away).
  async function refused(r) {
    if (r.status !== 401) return false;
    let message = "Sign in again: secbot didn't recognise your secret.";
    try { message = (await r.json()).error || message; } catch (e) { /* keep the default */ }
    signInNeeded = true;
    showSignIn(message);
    return true;
  }

  async function start() {
    let r;
    try {
      r = await fetch("/webchat/api/whoami", { headers: authHeaders() });
    } catch (e) { errorBox.textContent = "Can't reach secbot. Is it still running?"; return; }
    if (r.status === 401) {
      const tried = secret !== null;
      signInNeeded = true;
      let message = "";
      if (tried) { try { message = (await r.json()).error; } catch (e) { message = "That secret wasn't recognised."; } }
      showSignIn(message);
      return;
    }
    const data = await r.json();
    if (data.sign_in === "secret") {
      signInNeeded = true;
      userId = data.user_id;
      showChat("Signed in as " + data.name);
      return;
    }
    const asked = new URLSearchParams(window.location.search).get("user");
    userId = asked && /^[A-Za-z0-9_.-]{1,64}$/.test(asked) ? asked : store.getItem("secbot.user");
    if (!userId) { userId = "web-" + Math.random().toString(36).slice(2, 10); }
    store.setItem("secbot.user", userId);
    nameInput.value = store.getItem("secbot.name") || "Local user";
    nameInput.addEventListener("change", () => store.setItem("secbot.name", nameInput.value));
    showChat("Your id: " + userId);
  }

  signInForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const input = document.getElementById("secret");
    const value = input.value.trim();
    input.value = "";
    if (!value) { signInError.textContent = "Paste your secret first."; return; }
    if (!/^[\x21-\x7e]+$/.test(value)) {
      signInError.textContent = "That isn't a secret: secrets are letters, digits and symbols with no spaces. Paste it again.";
      return;
    }
    secret = value; tab.setItem("secbot.secret", value);
    signInError.textContent = "";
    start();
  });
  document.getElementById("signout").addEventListener("click", () => {
    log.textContent = ""; rendered.clear(); after = 0;
    showSignIn("You have signed out.");
  });

  // Resolves true when secbot took the message, false when it did not (so the page can
  // give the person back what they typed).
  async function post(body) {
    errorBox.textContent = "";
    if (!signInNeeded) { body.user_id = userId; body.name = nameInput.value; }
    body.conversation = conversation;
    const what = JSON.stringify(body);
    body.request_id = unsent && unsent.what === what ? unsent.id : reqId();
    let ok = false;
    try {
      const headers = Object.assign({ "Content-Type": "application/json" }, authHeaders());
      const r = await fetch("/webchat/api/send", { method: "POST", headers: headers, body: JSON.stringify(body) });
      if (await refused(r)) return false;
      let data = {};
      try { data = await r.json(); } catch (e) { /* a proxy's error page: not JSON */ }
      ok = r.ok && data.ok === true;
      if (!ok) errorBox.textContent = data.error || "Something went wrong. Your message is still in the box: try sending it again.";
    } catch (e) { errorBox.textContent = "Can't reach secbot. Is it still running? Your message is still in the box."; }
    unsent = ok ? null : { what: what, id: body.request_id };
    poll();
    return ok;
  }

  // Only https links become links; everything else stays text. The address is checked by
  // the browser's own URL parser, the text is set with textContent, and the new tab gets
  // no window.opener and no referrer.
  const LINK = /https:\/\/[^\s<>"'`]+/g;
  function linkedText(parent, text) {
    let last = 0;
    for (const match of text.matchAll(LINK)) {
      let address = match[0].replace(/[.,;:!?)\]]+$/, "");
      let url = null;
      try { url = new URL(address); } catch (e) { url = null; }
      if (!url || url.protocol !== "https:") continue;
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      const a = el("a", "", address);
      a.href = url.href; a.target = "_blank"; a.rel = "noopener noreferrer";
      parent.appendChild(a);
      last = match.index + address.length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
    return parent;
  }
  function textBlock(tag, cls, text) { return linkedText(el(tag, cls), text || ""); }

  function renderMessage(m) {
    const box = el("div", "msg " + (m.sender === "user" ? "user" : "bot") + (m.private ? " private" : ""));
    box.dataset.id = m.id;
    box.appendChild(el("div", "who", m.sender === "user" ? (m.name || "You") : (m.private ? "secbot (only you can see this)" : "secbot")));
    const blocks = m.blocks || [];
    if (!blocks.length) box.appendChild(textBlock("div", "section", m.text));
    for (const b of blocks) {
      if (b.type === "heading") box.appendChild(el("h3", "heading", b.text));
      else if (b.type === "section") {
        if (b.text) box.appendChild(textBlock("div", "section", b.text));
        if (b.fields && b.fields.length) {
          const dl = el("dl", "fields");
          for (const f of b.fields) { dl.appendChild(el("dt", "", f.label)); dl.appendChild(textBlock("dd", "", f.value)); }
          box.appendChild(dl);
        }
      } else if (b.type === "actions") {
        const row = el("div", "actions");
        for (const btn of b.buttons) {
          const button = el("button", btn.style || "", btn.label);
          button.type = "button";
          // A short label ("A") is spoken as the answer it stands for.
          if (btn.spoken) button.setAttribute("aria-label", btn.spoken);
          if (btn.pressed === true || btn.pressed === false) button.setAttribute("aria-pressed", String(btn.pressed));
          button.addEventListener("click", () => {
            // What was typed in this message's fields goes with the click, by name.
            const form = {};
            box.querySelectorAll("[data-name]").forEach((i) => { form[i.dataset.name] = i.value; });
            post({ action: { action_id: btn.action_id, value: btn.value, message_id: String(m.id), form: form } });
          });
          row.appendChild(button);
        }
        box.appendChild(row);
      } else if (b.type === "select") {
        const row = el("div", "actions");
        const sel = el("select");
        sel.setAttribute("aria-label", b.placeholder);
        sel.appendChild(el("option", "", b.placeholder));
        for (const c of b.choices) { const o = el("option", "", c.label); o.value = c.value; sel.appendChild(o); }
        sel.addEventListener("change", () => {
          if (sel.value === b.placeholder) return;
          // A person picker keeps its own value and sends the choice as a form field.
          const action = b.field
            ? { action_id: b.action_id, value: b.value, form: { [b.field]: sel.value }, message_id: String(m.id) }
            : { action_id: b.action_id, value: sel.value, message_id: String(m.id) };
          post({ action });
        });
        row.appendChild(sel);
        box.appendChild(row);
      } else if (b.type === "input") {
        const label = el("label", "field", b.label);
        const input = el(b.multiline ? "textarea" : "input");
        input.dataset.name = b.name; input.placeholder = b.placeholder || "";
        if (b.max_length) input.maxLength = b.max_length;
        if (b.multiline) input.rows = 4;
        input.value = b.initial || "";
        label.appendChild(input);
        box.appendChild(label);
      } else if (b.type === "context") {
        for (const line of b.lines) box.appendChild(textBlock("div", "context", line));
      } else if (b.type === "divider") box.appendChild(el("hr"));
    }
    if (m.sender === "user") {
      // Copy a person's message to the timeline of an incident you are on.
      const share = el("button", "share", "Add to incident timeline");
      share.type = "button";
      share.addEventListener("click", () => post({ share: { message_id: String(m.id) } }));
      box.appendChild(share);
    }
    if (m.attachment) {
      const a = el("a", "context", "Download " + m.attachment.filename);
      // The report comes as Markdown and as a web page: each downloads as its own type.
      const type = /\.html$/.test(m.attachment.filename) ? "text/html" : "text/markdown";
      a.href = "data:" + type + ";charset=utf-8," + encodeURIComponent(m.attachment.content);
      a.download = m.attachment.filename;
      box.appendChild(a);
    }
    return box;
  }

  async function poll() {
    if (document.getElementById("chat").hidden) return;
    const asked = conversation;
    try {
      const r = await fetch("/webchat/api/messages?user_id=" + encodeURIComponent(userId) + "&conversation=" + encodeURIComponent(asked) + "&after=" + after, { headers: authHeaders() });
      if (await refused(r)) return;
      const data = await r.json();
      if (asked !== conversation) return;  // the person moved to another room meanwhile
      showRooms(data.rooms || []);
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

  // Rooms other than #general (an incident room that pages are sent to, say) appear in
  // the navigation once they have messages, so whoever is paged there can read them.
  const nav = document.querySelector("nav");
  function openRoom(b) {
    conversation = b.dataset.conv; after = 0; rendered.clear(); log.textContent = "";
    nav.querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
    poll();
  }
  function showRooms(rooms) {
    for (const room of rooms) {
      if (typeof room !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(room)) continue;
      if (nav.querySelector('button[data-conv="' + room + '"]')) continue;
      const b = el("button", "", "#" + room);
      b.type = "button"; b.dataset.conv = room; b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", () => openRoom(b));
      nav.insertBefore(b, nav.querySelector('button[data-conv="dm"]'));
    }
  }
  nav.querySelectorAll("button").forEach((b) => b.addEventListener("click", () => openRoom(b)));
  document.getElementById("form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = document.getElementById("text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    // A long message must survive an error: put it back unless the person has typed
    // something new in the meantime.
    if (!(await post({ text: text })) && !input.value) { input.value = text; input.focus(); }
  });
  // A file shared here: kept as evidence when this is an incident's room. The request
  // body is capped at 1 MiB, so files are kept under 700 KB (base64 grows them by a third).
  const MAX_UPLOAD = 700 * 1024;
  const attach = document.getElementById("attach");
  attach.addEventListener("change", () => {
    const file = attach.files && attach.files[0];
    attach.value = "";
    if (!file) return;
    if (file.size > MAX_UPLOAD) { errorBox.textContent = "That file is too big to share here: keep it under 700 KB."; return; }
    const reader = new FileReader();
    reader.onload = () => {
      const data = String(reader.result);
      post({ upload: { name: file.name, content: data.slice(data.indexOf(",") + 1) } });
    };
    reader.readAsDataURL(file);
  });
  start();
})();
