// 网格通 sandbox web page. Vanilla JS, no build step. Bot text is rendered by building DOM nodes
// from the stored plain text + entities (never by injecting HTML).
"use strict";
const $ = (id) => document.getElementById(id);
const state = { users: [], personas: [], userId: null, chatId: null, version: -1, answersSeen: 0, chats: [] };

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  const resp = await fetch("/control/" + path, opts);
  const data = await resp.json();
  if (!data.ok) throw new Error(data.error || ("HTTP " + resp.status));
  return data.result;
}

function toast(text, alert) {
  const el = $("toast");
  el.textContent = text; el.className = alert ? "alert" : ""; el.style.display = "block";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.style.display = "none"; }, alert ? 4000 : 2200);
}
function fail(err) { toast("⚠ " + err.message); }

function userLabel(u) { return u.name + (u.role_label ? "（" + u.role_label + "）" : "") + " #" + u.id; }

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
    const img = document.createElement("img"); img.className = "photo"; img.src = m.photo.url; img.alt = "照片";
    el.appendChild(img);
  }
  const body = document.createElement("div"); body.className = "body";
  const media = describeMedia(m);
  if (media) body.appendChild(document.createTextNode(media + (m.text ? " " : "")));
  body.appendChild(renderText(m.text || "", m.entities));
  el.appendChild(body);
  if (m.buttons && m.buttons.length && !m.deleted) {
    const kb = document.createElement("div"); kb.className = "kb";
    for (const row of m.buttons) {
      const r = document.createElement("div"); r.className = "row";
      for (const b of row) {
        const btn = document.createElement("button"); btn.textContent = b.text + (b.url ? " ↗" : "");
        btn.onclick = () => pressButton(m, b).catch(fail);
        r.appendChild(btn);
      }
      kb.appendChild(r);
    }
    el.appendChild(kb);
  }
  const meta = document.createElement("div"); meta.className = "meta";
  meta.textContent = (m.edited ? "已编辑 · " : "") + (m.deleted ? "已删除 · " : "") + "#" + m.message_id + " · "
    + new Date(m.date * 1000).toLocaleTimeString("zh-CN");
  el.appendChild(meta);
  return el;
}

async function pressButton(m, b) {
  if (b.url) { window.open(b.url, "_blank", "noopener"); return; }
  await api("POST", "press", { user_id: state.userId, message_id: m.message_id, data: b.callback_data, chat_id: state.chatId });
}

function renderReplyKeyboard(chat) {
  const box = $("replykb"); box.textContent = "";
  const kb = chat && chat.reply_keyboard;
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
  if (kb.input_field_placeholder) $("text").placeholder = kb.input_field_placeholder;
}

async function loadMessages() {
  const log = $("log");
  if (!state.userId) return;
  const msgs = await api("GET", "chats/" + state.chatId + "/messages");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  log.textContent = "";
  if (!msgs.length) { const e = document.createElement("div"); e.className = "empty"; e.textContent = "还没有消息，输入 /start 开始"; log.appendChild(e); }
  for (const m of msgs) log.appendChild(renderMessage(m));
  if (atBottom || msgs.length < 4) log.scrollTop = log.scrollHeight;
  const chat = state.chats.find((c) => c.id === state.chatId);
  const u = currentUser();
  $("title").textContent = (chat && chat.type !== "private" ? "👥 " + chat.title : "🤖 机器人") + (u ? " — 我是 " + userLabel(u) : "");
  $("status").textContent = chat && chat.chat_action ? "正在输入…" : "";
  $("b-block").textContent = u && u.blocked ? "✅ 取消屏蔽" : "🚫 屏蔽";
  renderReplyKeyboard(chat);
}

async function showAnswers() {
  const answers = await api("GET", "callback_answers");
  for (const a of answers.slice(state.answersSeen)) {
    if (a.user_id === state.userId && a.text) toast(a.text, a.show_alert);
  }
  state.answersSeen = answers.length;
}

async function refresh() {
  await loadUsers();
  await loadChats();
  await loadMessages();
  await showAnswers();
}

async function pollLoop() {
  for (;;) {
    try {
      const r = await api("GET", "poll?since=" + state.version + "&timeout=20");
      if (r.version !== state.version) { state.version = r.version; await refresh(); }
    } catch (err) {
      await new Promise((ok) => setTimeout(ok, 700));
    }
  }
}

function needUser() { if (!state.userId) { toast("请先选择身份"); return false; } return true; }

async function sendText() {
  const input = $("text"); const text = input.value.trim();
  if (!text || !needUser()) return;
  await api("POST", "send_text", { user_id: state.userId, text, chat_id: state.chatId });
  input.value = "";
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
  if (ev.key === "Enter" && !ev.isComposing) { ev.preventDefault(); sendText().catch(fail); }
});
$("b-send").onclick = () => sendText().catch(fail);
$("b-photo").onclick = () => needUser() && api("POST", "send_photo", { user_id: state.userId, chat_id: state.chatId, caption: $("text").value.trim() || undefined }).then(() => { $("text").value = ""; }).catch(fail);
$("b-sticker").onclick = () => needUser() && api("POST", "send_sticker", { user_id: state.userId, chat_id: state.chatId }).catch(fail);
$("b-loc").onclick = () => needUser() && api("POST", "send_location", { user_id: state.userId, chat_id: state.chatId }).catch(fail);
$("b-block").onclick = () => { const u = currentUser(); if (u) api("POST", "block", { user_id: u.id, blocked: !u.blocked }).catch(fail); };

loadUsers().then(async () => { state.answersSeen = (await api("GET", "callback_answers")).length; }).catch(fail);
pollLoop();
