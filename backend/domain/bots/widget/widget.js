/* Sufler's chat widget. Put one tag on a page:
 *   <script src="https://<your sufler>/bots/web/widget.js" data-language="pl" defer></script>
 * It opens a WebSocket to the same server at /bots/web (protocol in backend/domain/bots/web.py), keeps the
 * conversation id and the not-yet-acknowledged messages in localStorage, and resends those after a reconnect:
 * the server stores each message id once, so a resend or a double click is answered once. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__suflerWidget) return;
  window.__suflerWidget = true;
  var origin = new URL(script.src, location.href);
  var socketUrl = (origin.protocol === "https:" ? "wss://" : "ws://") + origin.host + "/bots/web";
  var language = (script.dataset.language || navigator.language || "pl").slice(0, 2) === "en" ? "en" : "pl";
  var storeKey = "sufler-widget:" + origin.host;
  var T = {
    pl: {title: "Asystent salonu", open: "Czat z salonem", close: "Zamknij czat", placeholder: "Napisz wiadomość…",
      send: "Wyślij", typing: "pisze…", offline: "Łączenie ponownie… wiadomości wyślemy po połączeniu.",
      sending: "wysyłanie…", salesperson: "Doradca", name: "Imię", phone: "Telefon",
      consent: "Zgadzam się, by salon skontaktował się ze mną w tej sprawie.", share: "Udostępnij kontakt",
      needConsent: "Zaznacz zgodę, aby udostępnić kontakt."},
    en: {title: "Showroom assistant", open: "Chat with the showroom", close: "Close chat",
      placeholder: "Type a message…", send: "Send", typing: "typing…",
      offline: "Reconnecting… we will send your messages once connected.", sending: "sending…",
      salesperson: "Salesperson", name: "Name", phone: "Phone",
      consent: "I agree that the showroom may contact me about this.", share: "Share my contact",
      needConsent: "Tick the consent box to share your contact."}
  }[language];

  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (e) { saved = {}; }
  var state = {conversation: saved.conversation || null, pending: saved.pending || [], open: !!saved.open};
  function persist() {
    try {
      localStorage.setItem(storeKey, JSON.stringify(
        {conversation: state.conversation, pending: state.pending, open: state.open}));
    } catch (e) { /* private mode: the chat still works, it just does not survive a reload */ }
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  var host = document.createElement("div");
  host.id = "sufler-widget";
  var root = host.attachShadow({mode: "open"});
  root.innerHTML =
    '<style>' +
    ':host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}' +
    '.launcher{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;' +
    'background:#1d4ed8;color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center;box-shadow:0 6px 20px rgba(0,0,0,.25);z-index:2147483000}' +
    '.panel{position:fixed;right:20px;bottom:92px;width:360px;max-width:calc(100vw - 24px);height:520px;' +
    'max-height:calc(100vh - 120px);background:#fff;color:#111827;border-radius:14px;display:none;flex-direction:column;' +
    'box-shadow:0 12px 40px rgba(0,0,0,.28);overflow:hidden;z-index:2147483000}' +
    '.panel.open{display:flex}' +
    'header{background:#1d4ed8;color:#fff;padding:12px 14px;display:flex;align-items:center;justify-content:space-between}' +
    'header h2{font-size:16px;margin:0;font-weight:600}' +
    'header button{background:none;border:0;color:#fff;font-size:22px;cursor:pointer;min-width:44px;min-height:44px}' +
    '.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f8fafc}' +
    '.msg{max-width:85%;padding:8px 11px;border-radius:12px;font-size:14px;line-height:1.4;white-space:pre-wrap;word-wrap:break-word}' +
    '.customer{align-self:flex-end;background:#1d4ed8;color:#fff}' +
    '.bot{align-self:flex-start;background:#e5e7eb}' +
    '.salesperson{align-self:flex-start;background:#dcfce7}' +
    '.who{display:block;font-size:11px;font-weight:600;color:#166534;margin-bottom:2px}' +
    '.pending{opacity:.6}.status{font-size:12px;color:#6b7280;padding:0 12px 6px;min-height:18px;background:#f8fafc}' +
    '.choices{display:flex;flex-wrap:wrap;gap:6px;align-self:flex-start}' +
    '.choices button{border:1px solid #1d4ed8;background:#fff;color:#1d4ed8;border-radius:16px;padding:8px 12px;' +
    'font-size:13px;cursor:pointer;min-height:44px}' +
    'form.contact{display:flex;flex-direction:column;gap:6px;background:#fff;border:1px solid #d1d5db;border-radius:10px;padding:10px}' +
    'form.contact input[type=text],form.contact input[type=tel]{padding:8px;border:1px solid #d1d5db;border-radius:8px;font-size:16px;min-height:44px}' +
    'form.contact label{font-size:12px;display:flex;gap:8px;align-items:center;min-height:44px;cursor:pointer}' +
    'form.contact input[type=checkbox]{width:22px;height:22px;flex:none;margin:0}' +
    'form.contact button{background:#1d4ed8;color:#fff;border:0;border-radius:8px;padding:9px;font-size:14px;cursor:pointer;min-height:44px}' +
    'form.send{display:flex;gap:6px;padding:10px;border-top:1px solid #e5e7eb;background:#fff}' +
    'form.send input{flex:1;padding:10px;border:1px solid #d1d5db;border-radius:10px;font-size:16px;min-width:0}' +
    'form.send button{background:#1d4ed8;color:#fff;border:0;border-radius:10px;padding:0 14px;font-size:14px;cursor:pointer;min-height:44px}' +
    '</style>' +
    '<button class="launcher" type="button" aria-label="' + T.open + '"><svg width="28" height="28" viewBox="0 0 24 24" ' +
    'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">' +
    '<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/></svg></button>' +
    '<section class="panel" role="dialog" aria-label="' + T.title + '">' +
    '<header><h2>' + T.title + '</h2><button type="button" class="close" aria-label="' + T.close + '">×</button></header>' +
    '<div class="log" role="log" aria-live="polite"></div><div class="status" aria-live="polite"></div>' +
    '<form class="send"><input name="text" autocomplete="off" maxlength="4000" aria-label="' + T.placeholder +
    '" placeholder="' + T.placeholder + '"><button type="submit">' + T.send + '</button></form></section>';
  var panel = root.querySelector(".panel"), log = root.querySelector(".log"), status = root.querySelector(".status");
  var input = root.querySelector("form.send input");

  function setOpen(open) {
    state.open = open; persist();
    panel.classList.toggle("open", open);
    if (open) { input.focus(); log.scrollTop = log.scrollHeight; }
  }
  root.querySelector(".launcher").addEventListener("click", function () { setOpen(!state.open); });
  root.querySelector(".close").addEventListener("click", function () { setOpen(false); });

  function bubble(from, text, extraClass) {
    var div = document.createElement("div");
    div.className = "msg " + from + (extraClass ? " " + extraClass : "");
    if (from === "salesperson") {
      var who = document.createElement("span"); who.className = "who"; who.textContent = T.salesperson;
      div.appendChild(who);
    }
    div.appendChild(document.createTextNode(text));
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }
  function clearChoices() { root.querySelectorAll(".choices, form.contact").forEach(function (n) { n.remove(); }); }
  function choices(buttons) {
    var row = document.createElement("div"); row.className = "choices";
    buttons.forEach(function (b) {
      var button = document.createElement("button"); button.type = "button"; button.textContent = b.label;
      button.addEventListener("click", function () { clearChoices(); submit({type: "button", data: b.data}, b.label); });
      row.appendChild(button);
    });
    log.appendChild(row); log.scrollTop = log.scrollHeight;
  }
  function contactForm() {
    var form = document.createElement("form"); form.className = "contact";
    form.innerHTML = '<input type="text" name="name" autocomplete="name" placeholder="' + T.name + '" aria-label="' +
      T.name + '"><input type="tel" name="phone" autocomplete="tel" required placeholder="' + T.phone +
      '" aria-label="' + T.phone + '"><label><input type="checkbox" name="consent"> <span>' + T.consent +
      '</span></label><button type="submit">' + T.share + '</button>';
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!form.consent.checked) { status.textContent = T.needConsent; return; }
      var frame = {type: "contact", name: form.name.value.trim(), phone: form.phone.value.trim(), consent: true};
      clearChoices();
      submit(frame, (frame.name ? frame.name + ", " : "") + frame.phone);
    });
    log.appendChild(form); log.scrollTop = log.scrollHeight;
  }

  var socket = null, backoff = 500, typingTimer = null;
  function sendFrame(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }
  function submit(frame, shown) {
    frame.id = newId();
    state.pending.push({frame: frame, shown: shown}); persist();
    bubble("customer", shown, "pending").dataset.id = frame.id;
    sendFrame(frame);
  }
  root.querySelector("form.send").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    submit({type: "message", text: text}, text);
  });

  function onFrame(data) {
    var frame = JSON.parse(data);
    if (frame.type === "welcome") {
      state.conversation = frame.conversation_id; persist();
      log.textContent = "";
      frame.transcript.forEach(function (t) { bubble(t.from, t.text); });
      state.pending.forEach(function (p) {  // not acknowledged before the socket dropped: send again
        bubble("customer", p.shown, "pending").dataset.id = p.frame.id;
        sendFrame(p.frame);
      });
      status.textContent = "";
    } else if (frame.type === "ack") {
      state.pending = state.pending.filter(function (p) { return p.frame.id !== frame.id; }); persist();
      var shown = log.querySelector('[data-id="' + frame.id + '"]');
      if (shown) shown.classList.remove("pending");
    } else if (frame.type === "typing") {
      status.textContent = T.typing;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { status.textContent = ""; }, 15000);
    } else if (frame.type === "reply") {
      status.textContent = "";
      bubble(frame.from, frame.text);
      if (frame.buttons && frame.buttons.length) choices(frame.buttons);
      if (frame.ask_contact) contactForm();
    } else if (frame.type === "error") {
      status.textContent = frame.message;
    }
  }
  function connect() {
    socket = new WebSocket(socketUrl);
    socket.onopen = function () {
      backoff = 500;
      sendFrame({type: "hello", conversation_id: state.conversation, language: language});
    };
    socket.onmessage = function (event) { onFrame(event.data); };
    socket.onclose = function () {
      status.textContent = T.offline;
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }
  function start() {
    document.body.appendChild(host);
    setOpen(state.open);
    connect();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
