// 网格通 sandbox web page. Vanilla JS, no build step. Bot text is rendered by building DOM nodes
// from the stored plain text + entities (never by injecting HTML).
"use strict";
const $ = (id) => document.getElementById(id);
const state = { users: [], personas: [], userId: null, chatId: null, version: -1, answersSeen: 0, chats: [],
                renderedChat: null, pending: new Map(), botUsername: "" };
const DEFAULT_PLACEHOLDER = $("text").placeholder;
const TEXT_LIMIT = 4096;      // Telegram counts UTF-16 code units, exactly like String.length
const PRESS_TIMEOUT_MS = 5000; // a pressed keyboard stays greyed out until the bot answers, at most this long

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  const resp = await fetch("/control/" + path, opts);
  let data;
  try { data = await resp.json(); } catch (err) { throw new Error("沙盒返回了无法解析的响应（HTTP " + resp.status + "）"); }
  if (!data.ok) throw new Error(data.error || ("HTTP " + resp.status));
  return data.result;
}

function toast(text, alert) {
  const el = $("toast");
  el.textContent = text; el.className = alert ? "alert" : ""; el.style.display = "block";
  clearTimeout(toast.timer);
  if (alert) {  // like Telegram's show_alert: a dialog that stays until it is dismissed
    const ok = document.createElement("span"); ok.className = "ok"; ok.textContent = "确定"; el.appendChild(ok);
    return;
  }
  toast.timer = setTimeout(() => { el.style.display = "none"; }, 2200);
}
$("toast").onclick = () => { $("toast").style.display = "none"; };
function fail(err) { toast("⚠ " + err.message); }

function userLabel(u) { return u.name + (u.role_label ? " · " + u.role_label : "") + " #" + u.id; }

async function loadUsers() {
  const r = await api("GET", "personas");
  state.personas = r.personas; state.users = r.users;
  const sel = $("persona"); const keep = state.userId;
  sel.textContent = "";
  const add = (value, text) => { const o = document.createElement("option"); o.value = value; o.textContent = text; sel.appendChild(o); };
  add("", "— 选择身份 —");
  const seen = new Set();
  for (const u of state.personas) { add(u.id, userLabel(u)); seen.add(u.id); }
  for (const u of state.users) if (!seen.has(u.id)) add(u.id, userLabel(u));
  add("new", "＋ 新居民…");
  if (keep) sel.value = String(keep);
}

function currentUser() { return state.users.find((u) => u.id === state.userId); }

async function selectUser(id) {
  state.userId = id; state.chatId = id;
  $("newres").style.display = "none";
  await refresh();
}

async function loadChats() {
  if (!state.userId) return;
  const chats = await api("GET", "chats?user_id=" + state.userId);
  if (!chats.some((c) => c.id === state.userId)) {
    chats.unshift({ id: state.userId, type: "private", title: "", message_count: 0, last_text: "" });
  }
  state.chats = chats;
  const box = $("chats"); box.textContent = "";
  for (const c of chats) {
    const el = document.createElement("div");
    el.className = "chat" + (c.id === state.chatId ? " active" : "");
    const t = document.createElement("div"); t.className = "t";
    t.textContent = c.type === "private" ? "🤖 与机器人私聊" : "👥 " + c.title;
    const p = document.createElement("div"); p.className = "p"; p.textContent = c.last_text || "（暂无消息）";
    el.append(t, p);
    el.onclick = () => { state.chatId = c.id; refresh().catch(fail); };
    box.appendChild(el);
  }
}

const TAGS = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
               blockquote: "blockquote", expandable_blockquote: "blockquote" };

function entityNode(e) {
  if (e.type === "text_link") {
    const a = document.createElement("a");
    if (/^(https?:|tg:|mailto:)/i.test(e.url || "")) a.href = e.url;
    a.target = "_blank"; a.rel = "noopener noreferrer"; return a;
  }
  if (e.type === "spoiler") {
    const s = document.createElement("span"); s.className = "spoiler";
    s.onclick = () => s.classList.toggle("shown"); return s;
  }
  return document.createElement(TAGS[e.type] || "span");
}

function renderText(text, entities) {
  const frag = document.createDocumentFragment();
  const list = (entities || []).slice().sort((a, b) => a.offset - b.offset || b.length - a.length);
  function build(parent, start, end, ents) {
    let pos = start, i = 0;
    while (i < ents.length) {
      const e = ents[i], eEnd = Math.min(e.offset + e.length, end);
      if (e.offset > pos) parent.appendChild(document.createTextNode(text.slice(pos, e.offset)));
      const inner = []; let j = i + 1;
      while (j < ents.length && ents[j].offset < eEnd) { inner.push(ents[j]); j++; }
      const node = entityNode(e);
      build(node, Math.max(e.offset, pos), eEnd, inner);
      parent.appendChild(node);
      pos = Math.max(pos, eEnd); i = j;
    }
    if (pos < end) parent.appendChild(document.createTextNode(text.slice(pos, end)));
  }
  build(frag, 0, text.length, list);
  return frag;
}

function describeMedia(m) {
  if (m.kind === "sticker") return "[贴纸 " + (m.sticker.emoji || "") + "]";
  if (m.kind === "voice") return "[语音 " + m.voice.duration + "秒]";
  if (m.kind === "location") return "[位置 " + m.location.latitude.toFixed(4) + ", " + m.location.longitude.toFixed(4) + "]";
  if (m.kind === "contact") return "[联系人 " + m.contact.first_name + " " + m.contact.phone_number + "]";
  return "";
}

function renderMessage(m) {
  const el = document.createElement("div");
  el.className = "msg" + (m.from_bot ? "" : " me") + (m.deleted ? " deleted" : "");
  if (!m.from_bot && m.sender_id !== state.userId || (m.from_bot && state.chatId < 0)) {
    const who = document.createElement("div"); who.className = "who";
    who.textContent = m.from_bot ? "🤖 机器人" : m.sender_name; el.appendChild(who);
  }
  if (m.photo) {
    const img = document.createElement("img"); img.className = "photo"; img.alt = "照片";
    if (m.photo.width && m.photo.height) { img.width = m.photo.width; img.height = m.photo.height; }
    img.src = m.photo.url;
    el.appendChild(img);
  }
  const body = document.createElement("div"); body.className = "body";
  const media = describeMedia(m);
  if (media) body.appendChild(document.createTextNode(media + (m.text ? " " : "")));
  body.appendChild(renderText(m.text || "", m.entities));
  el.appendChild(body);
  if (m.buttons && m.buttons.length && !m.deleted) {
    el.classList.add("has-kb");
    const kb = document.createElement("div"); kb.className = "kb";
    const pending = state.pending.get(m.chat_id + ":" + m.message_id);
    const busy = pending && Date.now() - pending.at < PRESS_TIMEOUT_MS;
    for (const row of m.buttons) {
      const r = document.createElement("div"); r.className = "row";
      for (const b of row) {
        const btn = document.createElement("button"); btn.textContent = b.text + (b.url ? " ↗" : "");
        if (b.url) btn.title = b.url;
        if (busy && !b.url) { btn.disabled = true; if (pending.data === b.callback_data) btn.classList.add("pressed"); }
        btn.onclick = () => { kb.querySelectorAll("button").forEach((x) => { if (x !== btn) x.disabled = true; });
          btn.disabled = true; btn.classList.add("pressed");
          pressButton(m, b).catch((err) => { unpress(m); fail(err); }); };
        r.appendChild(btn);
      }
      kb.appendChild(r);
    }
    el.appendChild(kb);
  }
  const meta = document.createElement("div"); meta.className = "meta";
  meta.textContent = (m.edited ? "已编辑 · " : "") + (m.deleted ? "已删除 · " : "") + "#" + m.message_id + " · "
    + new Date(m.date * 1000).toLocaleTimeString("zh-CN");
  if (!m.from_bot && m.sender_id === state.userId && m.kind === "text" && !m.deleted) {
    // Telegram lets a person edit a sent message; the bot receives an edited_message update
    const edit = document.createElement("button"); edit.className = "edit"; edit.textContent = "✎ 编辑";
    edit.title = "编辑这条消息（机器人会收到 edited_message）";
    edit.onclick = () => editMessage(m).catch(fail);
    meta.prepend(edit);
  }
  el.appendChild(meta);
  return el;
}

async function pressButton(m, b) {
  if (b.url) { window.open(b.url, "_blank", "noopener"); unpress(m); return; }
  // Telegram shows a spinner on a pressed button until the bot answers the callback query; we grey the
  // keyboard out instead, which also keeps a double click from sending a second (stale) press.
  const key = m.chat_id + ":" + m.message_id;
  state.pending.set(key, { at: Date.now(), data: b.callback_data, userId: state.userId });
  setTimeout(() => { if (state.pending.get(key)?.data === b.callback_data) { state.pending.delete(key); loadMessages().catch(fail); } },
             PRESS_TIMEOUT_MS + 100);
  await api("POST", "press", { user_id: state.userId, message_id: m.message_id, data: b.callback_data, chat_id: state.chatId });
}
async function editMessage(m) {
  const text = window.prompt("编辑消息", m.text);
  if (text === null || text.trim() === "" || text === m.text) return;
  if (text.length > TEXT_LIMIT) { toast("消息太长：" + text.length + " 个字符，最多 " + TEXT_LIMIT + " 个。"); return; }
  await api("POST", "edit_text", { user_id: state.userId, message_id: m.message_id, text, chat_id: state.chatId });
}
function unpress(m) { state.pending.delete(m.chat_id + ":" + m.message_id); loadMessages().catch(fail); }

function renderReplyKeyboard(chat) {
  const box = $("replykb"); box.textContent = "";
  const kb = chat && chat.reply_keyboard;
  $("text").placeholder = (kb && kb.input_field_placeholder) || DEFAULT_PLACEHOLDER;
  if (!kb || !kb.keyboard) { box.style.display = "none"; return; }
  box.style.display = "block";
  for (const row of kb.keyboard) {
    const r = document.createElement("div"); r.className = "row";
    for (const raw of row) {
      const b = typeof raw === "string" ? { text: raw } : raw;
      const btn = document.createElement("button"); btn.textContent = b.text;
      btn.onclick = () => {
        const p = b.request_contact ? api("POST", "send_contact", { user_id: state.userId, chat_id: state.chatId })
          : b.request_location ? api("POST", "send_location", { user_id: state.userId, chat_id: state.chatId })
          : api("POST", "send_text", { user_id: state.userId, text: b.text, chat_id: state.chatId });
        p.catch(fail);
      };
      r.appendChild(btn);
    }
    box.appendChild(r);
  }
}

async function loadMessages() {
  const log = $("log");
  if (!state.userId) return;
  const chatId = state.chatId;
  const msgs = await api("GET", "chats/" + chatId + "/messages");
  if (chatId !== state.chatId) return;  // the person switched chats while this was loading
  const switched = state.renderedChat !== chatId;
  const atBottom = switched || log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  const keep = log.scrollTop;
  log.textContent = "";
  if (!msgs.length) { const e = document.createElement("div"); e.className = "empty"; e.textContent = "还没有消息，输入 /start 开始"; log.appendChild(e); }
  for (const m of msgs) log.appendChild(renderMessage(m));
  state.renderedChat = chatId;
  const toBottom = () => { log.scrollTop = log.scrollHeight; };
  if (atBottom) {
    toBottom();
    // photos finish loading after this; stay pinned to the newest message while they do
    for (const img of log.querySelectorAll("img.photo")) if (!img.complete) img.addEventListener("load", toBottom, { once: true });
  } else {
    log.scrollTop = keep;
  }
  const chat = state.chats.find((c) => c.id === state.chatId);
  const u = currentUser();
  $("title").textContent = (chat && chat.type !== "private" ? "👥 " + chat.title : "🤖 机器人") + (u ? " — 我是 " + userLabel(u) : "");
  showTyping(chat);
  $("b-block").textContent = u && u.blocked ? "✅ 取消屏蔽" : "🚫 屏蔽";
  renderReplyKeyboard(chat);
}

async function showAnswers() {
  const answers = await api("GET", "callback_answers");
  if (answers.length < state.answersSeen) state.answersSeen = 0;  // the sandbox was restarted
  let released = false;
  for (const a of answers.slice(state.answersSeen)) {
    if (a.user_id === state.userId && a.text) toast(a.text, a.show_alert);
    const key = a.chat_id + ":" + a.message_id, p = state.pending.get(key);
    if (p && p.userId === a.user_id && p.data === a.data) { state.pending.delete(key); released = true; }
  }
  state.answersSeen = answers.length;
  if (released) await loadMessages();
}

async function refresh() {
  await loadUsers();
  await loadChats();
  await loadMessages();
  await showAnswers();
}

function setOffline(off) {
  if (off === state.offline) return;
  state.offline = off;
  $("status").classList.toggle("offline", off);
  if (off) $("status").textContent = "⚠ 与沙盒的连接断开，正在重连…（gridbot run 还在运行吗？）";
  else showTyping(state.chats.find((c) => c.id === state.chatId));
}

function showTyping(chat) {
  if (state.offline) return;
  $("status").textContent = chat && chat.chat_action ? "正在输入…" : "";
  clearTimeout(showTyping.timer);  // a chat action lasts 5 s unless the bot repeats it
  if (chat && chat.chat_action) showTyping.timer = setTimeout(() => { if (!state.offline) $("status").textContent = ""; }, 5500);
}

async function pollLoop() {
  for (;;) {
    try {
      // after a lost connection ask without waiting: a restarted sandbox counts its version from 0 again
      const back = state.offline;
      const r = await api("GET", "poll?since=" + (back ? -1 : state.version) + "&timeout=" + (back ? 0 : 20));
      setOffline(false);
      if (back || r.version !== state.version) { state.version = r.version; await refresh(); }
    } catch (err) {
      setOffline(true);
      await new Promise((ok) => setTimeout(ok, 1000));
    }
  }
}

function needUser() { if (!state.userId) { toast("请先选择身份"); return false; } return true; }

async function sendText() {
  const input = $("text"); const text = input.value.trim();
  if (!text || !needUser()) return;
  if (text.length > TEXT_LIMIT) {
    toast("消息太长：" + text.length + " 个字符，Telegram 一条消息最多 " + TEXT_LIMIT + " 个字符（表情算 2 个）。请删短一些。");
    return;
  }
  await api("POST", "send_text", { user_id: state.userId, text, chat_id: state.chatId });
  input.value = ""; composerChanged();
}

// The composer grows with its text (Shift+Enter for a new line) and shows a counter near Telegram's limit.
function composerChanged() {
  const t = $("text"), n = t.value.trim().length, c = $("count");
  t.style.height = "auto"; t.style.height = t.scrollHeight + 2 + "px";
  c.style.display = n > TEXT_LIMIT - 500 ? "block" : "none";
  c.textContent = n + " / " + TEXT_LIMIT; c.classList.toggle("over", n > TEXT_LIMIT);
}

function deepLinkPayload(raw) {
  const v = raw.trim();
  const m = v.match(/[?&]start=([^&#\s]*)/);
  if (m) { try { return decodeURIComponent(m[1]); } catch (err) { return m[1]; } }
  return v.replace(/^\/start\s+/, "");
}

async function openDeepLink() {
  if (!needUser()) return;
  const payload = deepLinkPayload($("dl-payload").value);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(payload)) {
    toast("start 参数只能是 1–64 个字母、数字、_ 或 -，例如 b_3"); return;
  }
  state.chatId = state.userId;  // deep links always open the private chat with the bot
  await api("POST", "deep_link", { user_id: state.userId, payload });
  await refresh();
}

$("persona").onchange = (ev) => {
  const v = ev.target.value;
  if (v === "new") { $("newres").style.display = "flex"; return; }
  if (v) selectUser(Number(v)).catch(fail);
};
$("nr-ok").onclick = async () => {
  try {
    const id = Number($("nr-id").value), name = $("nr-name").value.trim();
    if (!id || !name) { toast("请填写用户ID和姓名"); return; }
    await api("POST", "users", { id, first_name: name, role_label: "居民" });
    await loadUsers(); $("persona").value = String(id); await selectUser(id);
  } catch (err) { fail(err); }
};
$("g-ok").onclick = async () => {
  try {
    const ids = $("g-members").value.split(/[,，\s]+/).filter(Boolean).map(Number);
    if (state.userId && !ids.includes(state.userId)) ids.push(state.userId);
    const r = await api("POST", "groups", { title: $("g-title").value.trim(), member_ids: ids });
    state.chatId = r.chat_id; await refresh();
  } catch (err) { fail(err); }
};
$("text").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) { ev.preventDefault(); sendText().catch(fail); }
});
$("text").addEventListener("input", composerChanged);
$("dl-ok").onclick = () => openDeepLink().catch(fail);
$("dl-payload").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.isComposing) { ev.preventDefault(); openDeepLink().catch(fail); }
});
$("b-send").onclick = () => sendText().catch(fail);
$("b-photo").onclick = () => needUser() && api("POST", "send_photo", { user_id: state.userId, chat_id: state.chatId, caption: $("text").value.trim() || undefined }).then(() => { $("text").value = ""; composerChanged(); }).catch(fail);
$("b-voice").onclick = () => needUser() && api("POST", "send_voice", { user_id: state.userId, chat_id: state.chatId, duration: 8 }).catch(fail);
$("b-sticker").onclick = () => needUser() && api("POST", "send_sticker", { user_id: state.userId, chat_id: state.chatId }).catch(fail);
$("b-loc").onclick = () => needUser() && api("POST", "send_location", { user_id: state.userId, chat_id: state.chatId }).catch(fail);
$("b-block").onclick = () => { const u = currentUser(); if (u) api("POST", "block", { user_id: u.id, blocked: !u.blocked }).catch(fail); };

loadUsers().then(async () => { state.answersSeen = (await api("GET", "callback_answers")).length; }).catch(fail);
api("GET", "info").then((info) => {
  state.botUsername = info.bot.username;
  $("dl-hint").textContent = "楼道二维码的链接形如 https://t.me/" + info.bot.username
    + "?start=b_3（b_ 后面是楼栋代码）。粘贴整条链接或只填 start 参数。";
}).catch(() => {});
pollLoop();
