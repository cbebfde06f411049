// The Newsdesk web page: one more front end over the HTTP API (README, "Web page").
// Everything that comes from the server (article text, headlines, answers) is inserted as
// text (textContent, createTextNode), never parsed as HTML: articles are hostile input.
// No framework, no build step; the Content-Security-Policy allows this file and nothing inline.
"use strict";

(() => {
  const TOKEN_KEY = "newsdesk.token";
  const CONVERSATION_KEY = "newsdesk.conversation";
  const MAX_HISTORY = 20; // turns sent with a follow-up (bot/app/user_values.py MAX_HISTORY_TURNS)
  const MAX_TURN_CHARS = 8000; // each side of one turn (bot/app/user_values.py MAX_TURN_CHARS)
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                  "Nov", "Dec"];
  const $ = (id) => document.getElementById(id);
  const tokenRequired = document.body.dataset.tokenRequired === "true";

  // -- small helpers -----------------------------------------------------------------------

  /** An element with attributes and children; strings become text nodes, never markup. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === "") continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  /** "14 Mar 2025" from an ISO date, in the publisher's own calendar (the date as written). */
  function day(iso) {
    const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    if (!match) return "";
    return `${Number(match[3])} ${MONTHS[Number(match[2]) - 1]} ${match[1]}`;
  }

  /** "5 min ago", "3 days ago" for an ISO moment. */
  function ago(iso) {
    const then = Date.parse(iso || "");
    if (Number.isNaN(then)) return "";
    const minutes = Math.max(0, Math.round((Date.now() - then) / 60000));
    if (minutes < 1) return "just now";
    if (minutes < 60) return `${minutes} min ago`;
    const hours = Math.round(minutes / 60);
    if (hours < 48) return `${hours} h ago`;
    return `${Math.round(hours / 24)} days ago`;
  }

  /** A URL that may be a link's target: http(s) only (never javascript: or data:). */
  function safeUrl(url) {
    try {
      const parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function randomId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // -- errors ------------------------------------------------------------------------------

  function showError(message) {
    const line = $("error");
    line.textContent = String(message).split("\n")[0];
    line.hidden = false;
  }

  function clearError() {
    $("error").hidden = true;
    $("error").textContent = "";
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // -- the API -----------------------------------------------------------------------------

  function headers(extra) {
    const sent = { ...(extra || {}) };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) sent.Authorization = `Bearer ${token}`;
    return sent;
  }

  async function failure(response) {
    let message = `the server answered ${response.status}`;
    try {
      const data = await response.json();
      if (data && typeof data.error === "string") message = data.error;
    } catch {
      // not JSON: keep the status
    }
    if (response.status === 401) askForToken();
    return new ApiError(response.status, message);
  }

  async function api(method, path, body) {
    let response;
    try {
      response = await fetch(path, {
        method,
        headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "Cannot reach the Newsdesk server: it may have stopped.");
    }
    if (!response.ok) throw await failure(response);
    return response.status === 204 ? null : response.json();
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value) search.append(key, value);
    }
    const text = search.toString();
    return text ? `?${text}` : "";
  }

  /** POST /api/ask as server-sent events: `onToken(text)` as the answer is written; resolves
   * with the whole answer, or rejects with a one-line ApiError. */
  async function askStreaming(body, onToken) {
    let response;
    try {
      response = await fetch("/api/ask", {
        method: "POST",
        headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
        body: JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "Cannot reach the Newsdesk server: it may have stopped.");
    }
    if (!response.ok) throw await failure(response);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch {
        throw new ApiError(0, "The server stopped before the answer was complete; ask again.");
      }
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        const payload = data.length ? JSON.parse(data.join("\n")) : {};
        if (event === "token") onToken(payload.text || "");
        else if (event === "answer") return payload;
        else if (event === "error") throw new ApiError(503, payload.error || "the server failed");
      }
    }
    throw new ApiError(0, "The server stopped before the answer was complete; ask again.");
  }

  // -- the token ---------------------------------------------------------------------------

  function askForToken() {
    if (!tokenRequired) return;
    sessionStorage.removeItem(TOKEN_KEY);
    $("token-form").hidden = false;
    $("desk").hidden = true;
    $("token").focus();
  }

  async function useToken(event) {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $("token").value = "";
    try {
      await api("GET", "/api/stats").then(showStatus);
    } catch (error) {
      showError(error.status === 401 ? "That token is not this desk's: try again."
                                     : error.message);
      return;
    }
    clearError();
    $("token-form").hidden = true;
    $("desk").hidden = false;
    start();
    $("question").focus();
  }

  // -- status line -------------------------------------------------------------------------

  function showStatus(stats) {
    const sources = Object.keys(stats.sources || {});
    const parts = [`${stats.articles} articles from ${sources.length} sources`];
    if (stats.published_to) parts.push(`newest article ${day(stats.published_to)}`);
    if (stats.last_ingest) parts.push(`last ingest ${ago(stats.last_ingest)}`);
    const status = $("status");
    status.textContent = parts.join(" · ");
    const newest = Date.parse(stats.last_ingest || stats.published_to || "");
    // A store nobody has fed for two days is worth a glance: said, not only coloured.
    const stale = !Number.isNaN(newest) && Date.now() - newest > 2 * 86400000;
    status.classList.toggle("stale", stale);
    if (stale) status.append(el("strong", {}, " · not updated for over 2 days"));
    const select = $("source");
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, "All sources"),
                           ...sources.map((s) => el("option", { value: s }, s)));
    select.value = chosen;
  }

  async function loadStatus() {
    try {
      showStatus(await api("GET", "/api/stats"));
    } catch (error) {
      $("status").textContent = `Store: ${error.message}`;
    }
  }

  // -- the passage beside the answer ------------------------------------------------------

  /** Show citation `citation` (an Answer citation record) beside the answer, the sentence at
   * `quote` ([start, end] in its text, or undefined) highlighted. */
  function openPassage(citation, quote) {
    const panel = $("passage");
    $("passage-number").textContent = `Source [${citation.n}]`;
    $("passage-title").textContent = citation.title || citation.article_id;
    const meta = [citation.source, citation.author ? `by ${citation.author}` : "",
                  citation.published ? `published ${day(citation.published)}` : "",
                  citation.updated ? `updated ${day(citation.updated)}` : ""];
    $("passage-meta").textContent = meta.filter(Boolean).join(" · ");
    const copies = citation.also_ran_in || [];
    $("passage-also").textContent = copies.length ? "Also ran in: " + copies.map(
      (c) => (c.source || c.url || c.article_id) + (c.author ? ` (${c.author})` : "")).join(", ")
      : "";
    const text = citation.text || "";
    const body = $("passage-text");
    if (quote && quote[0] >= 0 && quote[1] <= text.length && quote[0] < quote[1]) {
      body.replaceChildren(text.slice(0, quote[0]), el("mark", {}, text.slice(quote[0], quote[1])),
                           text.slice(quote[1]));
    } else {
      body.replaceChildren(text);
    }
    const link = $("passage-link");
    const url = safeUrl(citation.url);
    link.hidden = !url;
    if (url) link.href = url;
    else link.removeAttribute("href");
    panel.hidden = false;
    panel.focus();
  }

  /** The answer's text: the bold value, then parts, each [n] a link to its passage. */
  function renderAnswerText(answer) {
    const view = answer.view || { lead: null, parts: [{ text: answer.answer }], quotes: {} };
    const byNumber = new Map((answer.citations || []).map((c) => [c.n, c]));
    const out = el("div", { class: "answer" });
    if (view.lead) out.append(el("strong", { class: "lead" }, view.lead));
    for (const part of view.parts) {
      if (part.cite === undefined) {
        out.append(document.createTextNode(part.text));
        continue;
      }
      const citation = byNumber.get(part.cite);
      if (!citation) {
        out.append(document.createTextNode(`[${part.cite}]`));
        continue;
      }
      out.append(el("a", {
        href: "#passage", class: "cite", title: citation.title || "",
        onclick: (event) => {
          event.preventDefault();
          openPassage(citation, part.quote || view.quotes[String(part.cite)]);
        },
      }, `[${part.cite}]`));
    }
    return out;
  }

  function renderSources(answer) {
    const list = el("ol", { class: "sources", "aria-label": "Sources" });
    for (const citation of answer.citations || []) {
      const details = [citation.source, day(citation.published),
                       citation.updated ? `updated ${day(citation.updated)}` : ""];
      const copies = citation.also_ran_in || [];
      list.append(el("li", { value: citation.n },
        el("a", {
          href: "#passage", class: "source",
          onclick: (event) => {
            event.preventDefault();
            openPassage(citation, (answer.view || { quotes: {} }).quotes[String(citation.n)]);
          },
        }, citation.title || citation.article_id),
        " ", el("span", { class: "meta" }, details.filter(Boolean).join(", ")),
        copies.length ? el("span", { class: "also" }, " · also ran in: " + copies.map(
          (c) => c.source || c.url || c.article_id).join(", ")) : null));
    }
    return list;
  }

  // -- "why this answer" --------------------------------------------------------------------

  function renderTrace(trace) {
    if (!trace) return el("p", {}, "No trace: this answer was not chosen among sentences " +
                                   "(a timeline, a brief or what changed).");
    const box = el("div", { class: "trace-body" });
    const read = trace.question || {};
    const terms = Object.keys(read.terms || {});
    box.append(el("h3", {}, "The question as read"),
               el("p", {}, `Asks for: ${read.kind || "a fact"}` +
                  (terms.length ? ` · key words: ${terms.join(", ")}` : "") +
                  ((read.names || []).length ? ` · names: ${read.names.join(", ")}` : "") +
                  (read.latest ? " · wants the latest" : "") +
                  (read.follow_up ? " · a follow-up" : "")));
    const candidates = trace.candidates || [];
    if (candidates.length) {
      const table = el("table", {},
        el("caption", {}, "The best candidate sentences"),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Sentence"),
                           el("th", { scope: "col" }, "Source"),
                           el("th", { scope: "col" }, "Probability"))));
      const rows = el("tbody");
      for (const candidate of candidates) {
        rows.append(el("tr", {}, el("td", {}, candidate.text || ""),
                       el("td", {}, candidate.passage ? `passage ${candidate.passage}` : ""),
                       el("td", {}, typeof candidate.probability === "number"
                         ? candidate.probability.toFixed(2) : "")));
      }
      table.append(rows);
      box.append(table);
    }
    if ((trace.rules || []).length) {
      box.append(el("h3", {}, "Rules that applied"),
                 el("ul", {}, trace.rules.map((rule) => el("li", {}, rule))));
    }
    if (trace.lead && trace.lead.span) {
      box.append(el("p", {}, `Value found: ${trace.lead.span} (confidence ` +
                 `${Number(trace.lead.confidence).toFixed(2)}, shown in bold from ` +
                 `${Number(trace.lead.threshold).toFixed(2)})`));
    }
    box.append(el("h3", {}, "Decision"), el("p", {}, trace.decision || ""));
    return box;
  }

  // -- the conversation ---------------------------------------------------------------------

  /** The conversation, kept in this tab (sessionStorage): it survives a reload, not the tab. */
  let turns = [];

  function saveTurns() {
    try {
      sessionStorage.setItem(CONVERSATION_KEY, JSON.stringify(turns));
    } catch {
      // storage full: keep the most recent half
      turns = turns.slice(Math.floor(turns.length / 2));
      sessionStorage.setItem(CONVERSATION_KEY, JSON.stringify(turns));
    }
  }

  function loadTurns() {
    try {
      const kept = JSON.parse(sessionStorage.getItem(CONVERSATION_KEY) || "[]");
      turns = Array.isArray(kept) ? kept.filter((t) => t && t.answer) : [];
    } catch {
      turns = [];
    }
  }

  /** What a turn keeps: the answer without the passages it did not cite (they can be large). */
  function kept(answer) {
    const { passages, ...rest } = answer;
    return rest;
  }

  function history(before) {
    return turns.slice(0, before).slice(-MAX_HISTORY).map(
      (t) => [t.question.slice(0, MAX_TURN_CHARS), t.answer.answer.slice(0, MAX_TURN_CHARS)]);
  }

  function formFilters() {
    return {
      since: $("since").value || null, until: $("until").value || null,
      source: $("source").value ? [$("source").value] : [], as_of: $("as-of").value || null,
      time_words: true,
    };
  }

  function requestBody(question, filters, before) {
    const body = { question, history: history(before), explain: true,
                   time_words: filters.time_words !== false };
    if (filters.since) body.since = filters.since;
    if (filters.until) body.until = filters.until;
    if ((filters.source || []).length) body.source = filters.source;
    if (filters.as_of) body.as_of = filters.as_of;
    return body;
  }

  function chip(label, removeLabel, onRemove) {
    return el("span", { class: "chip" }, label,
              el("button", { type: "button", class: "remove", "aria-label": removeLabel,
                             title: removeLabel, onclick: onRemove }, "×"));
  }

  function renderChips(turn, index) {
    const answer = turn.answer;
    const filters = turn.filters || {};
    const row = el("div", { class: "chips", role: "group", "aria-label": "What was read" });
    if (answer.window) {
      row.append(chip(answer.window.label, `Remove the window "${answer.window.label}": ` +
                      "ask again over every date", () => reask(index, {
        ...filters, since: null, until: null, time_words: false })));
    }
    for (const source of (answer.filters || {}).sources || []) {
      row.append(chip(`Source: ${source}`, `Remove the source ${source}: ask again over ` +
                      "every source", () => reask(index, {
        ...filters, source: (filters.source || []).filter((s) => s !== source) })));
    }
    if ((answer.filters || {}).as_of) {
      row.append(chip(`As of ${day(answer.filters.as_of)}`, "Remove “as of”: ask again " +
                      "as of today", () => reask(index, { ...filters, as_of: null })));
    }
    return row.childElementCount ? row : null;
  }

  function renderFeedback(turn) {
    const said = el("span", { class: "said", role: "status" });
    const vote = (kind) => async (event) => {
      const button = event.currentTarget;
      try {
        await api("POST", "/api/feedback", {
          answer_id: turn.id, vote: kind, question: turn.question,
          answer: turn.answer.answer.slice(0, MAX_TURN_CHARS),
          abstained: Boolean(turn.answer.abstained),
          citations: (turn.answer.citations || []).map((c) => ({
            n: c.n, article_id: c.article_id, title: c.title, url: c.url })),
        });
      } catch (error) {
        showError(error.message);
        return;
      }
      turn.vote = kind;
      saveTurns();
      for (const other of button.parentElement.querySelectorAll("button.vote")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
      said.textContent = "Thanks: recorded.";
    };
    return el("span", { class: "feedback" },
      el("button", { type: "button", class: "vote", "aria-label": "Good answer",
                     "aria-pressed": String(turn.vote === "up"), onclick: vote("up") },
         "👍 Good"),
      el("button", { type: "button", class: "vote", "aria-label": "Bad answer",
                     "aria-pressed": String(turn.vote === "down"), onclick: vote("down") },
         "👎 Bad"),
      said);
  }

  function renderTurn(turn, index) {
    const answer = turn.answer;
    const traceId = `trace-${turn.id}`;
    const trace = el("div", { class: "trace", id: traceId, hidden: true });
    const toggle = el("button", {
      type: "button", class: "why", "aria-expanded": "false", "aria-controls": traceId,
      onclick: () => {
        const open = trace.hidden;
        if (open && !trace.childElementCount) trace.append(renderTrace(answer.trace));
        trace.hidden = !open;
        toggle.setAttribute("aria-expanded", String(open));
      },
    }, "Why this answer");
    return el("article", { class: "turn", "data-turn": index },
      el("h2", { class: "asked" }, turn.question),
      renderChips(turn, index),
      renderAnswerText(answer),
      answer.note ? el("p", { class: "note" }, answer.note) : null,
      (answer.citations || []).length ? renderSources(answer) : null,
      el("div", { class: "actions" }, renderFeedback(turn), toggle),
      trace);
  }

  function renderConversation() {
    $("conversation").replaceChildren(...turns.map(renderTurn));
  }

  let busy = false;

  /** Ask `question` with `filters`, as turn `index` (a new turn when it is turns.length). */
  async function ask(question, filters, index) {
    if (busy) return;
    busy = true;
    clearError();
    $("ask-button").disabled = true;
    const pending = el("article", { class: "turn pending", "aria-busy": "true" },
      el("h2", { class: "asked" }, question),
      el("p", { class: "answer streaming" }, el("span", { class: "hint" }, "Reading the articles…")));
    const written = pending.querySelector(".streaming");
    const place = $("conversation").children[index];
    if (place) place.replaceWith(pending);
    else $("conversation").append(pending);
    let first = true;
    try {
      const answer = await askStreaming(requestBody(question, filters, index), (text) => {
        if (first) written.replaceChildren();
        first = false;
        written.append(document.createTextNode(text));
      });
      const turn = { id: randomId(), question, filters, answer: kept(answer) };
      turns.splice(index, 1, turn); // a new turn at the end, or the re-asked one replaced
      saveTurns();
      pending.replaceWith(renderTurn(turn, index));
      return true;
    } catch (error) {
      pending.remove();
      renderConversation();
      showError(error.message);
      return false;
    } finally {
      busy = false;
      $("ask-button").disabled = false;
    }
  }

  function reask(index, filters) {
    const turn = turns[index];
    if (!turn) return;
    if (filters.since === null && filters.until === null) {
      $("since").value = "";
      $("until").value = "";
    }
    if (!filters.as_of) $("as-of").value = "";
    if (!(filters.source || []).length) $("source").value = "";
    ask(turn.question, filters, index);
  }

  async function submitQuestion(event) {
    if (event) event.preventDefault();
    const box = $("question");
    const question = box.value.trim();
    if (!question) return;
    if (await ask(question, formFilters(), turns.length)) box.value = "";
  }

  // -- the desk's other views ---------------------------------------------------------------

  function renderCitedText(answer, container) {
    container.replaceChildren(
      answer.window ? el("p", { class: "window" }, answer.window.label) : null,
      renderAnswerText(answer),
      (answer.citations || []).length ? renderSources(answer) : null);
  }

  async function showBrief(event) {
    event.preventDefault();
    clearError();
    const out = $("brief-result");
    let brief;
    try {
      brief = await api("GET", "/api/brief" + query({
        since: $("brief-since").value.trim(), until: $("brief-until").value,
        source: $("brief-source").value.trim(), as_of: $("brief-as-of").value }));
    } catch (error) {
      showError(error.message);
      return;
    }
    const byNumber = new Map(brief.citations.map((c) => [c.n, c]));
    const cite = (n) => {
      const citation = byNumber.get(n);
      return citation ? el("a", { href: "#passage", class: "cite", onclick: (e) => {
        e.preventDefault();
        openPassage(citation, brief.view.quotes[String(n)]);
      } }, `[${n}]`) : `[${n}]`;
    };
    const count = brief.stories.length + brief.more;
    out.replaceChildren(el("p", { class: "window" },
      `${brief.window.label}: ${count} ${count === 1 ? "story" : "stories"} from ` +
      `${brief.articles} ${brief.articles === 1 ? "article" : "articles"}`));
    const list = el("ol", { class: "stories" });
    for (const story of brief.stories) {
      const item = el("li", { class: "story" },
        el("h3", {}, story.title),
        el("p", {}, story.lead, " ", cite(story.n), " ",
           el("span", { class: "meta" }, `(${day(story.published)})`)));
      if (story.sources.length > 1) {
        item.append(el("details", { class: "copies" },
          el("summary", {}, `ran in ${story.sources.length} sources`),
          el("ul", {}, story.sources.map((s) => el("li", {}, s)))));
      }
      if (story.timeline.length) {
        item.append(el("details", { class: "story-timeline" },
          el("summary", {}, "Timeline" + (story.earlier ? ` (${story.earlier} earlier not shown)`
                                                        : "")),
          el("ul", {}, story.timeline.map((step) => el("li", {},
            `${day(step.published)} — ${step.sentence} `, cite(step.n))))));
      }
      list.append(item);
    }
    out.append(list);
    if (brief.more) out.append(el("p", {}, `and ${brief.more} more`));
  }

  async function showTimeline(event) {
    event.preventDefault();
    clearError();
    try {
      const answer = await api("GET", "/api/timeline" + query({
        topic: $("timeline-topic").value.trim() }));
      renderCitedText(answer, $("timeline-result"));
    } catch (error) {
      showError(error.message);
    }
  }

  async function showChanges(event) {
    event.preventDefault();
    clearError();
    try {
      const report = await api("GET", "/api/changes" + query({ q: $("changes-q").value.trim() }));
      renderCitedText(report, $("changes-result"));
    } catch (error) {
      showError(error.message);
    }
  }

  async function loadSaved() {
    let watches;
    let alerts;
    try {
      [watches, alerts] = await Promise.all([api("GET", "/api/watches"),
                                             api("GET", "/api/alerts")]);
    } catch (error) {
      showError(error.message);
      return;
    }
    $("saved-list").replaceChildren(...(watches.length ? watches.map((watch) => el("li", {},
      el("span", { class: "question" }, `#${watch.id} ${watch.question}`),
      watch.last_answer ? el("span", { class: "meta" }, ` — last answer: ${watch.last_answer}`)
                        : null,
      " ",
      el("button", { type: "button", "aria-label": `Remove saved question ${watch.id}`,
                     onclick: async () => {
                       try {
                         await api("DELETE", `/api/watches/${watch.id}`);
                       } catch (error) {
                         showError(error.message);
                         return;
                       }
                       loadSaved();
                     } }, "Remove")))
      : [el("li", { class: "hint" }, "No saved questions yet.")]));
    $("alert-list").replaceChildren(...(alerts.length ? alerts.map((alert) => el("li", {},
      el("span", { class: "meta" }, `${day(alert.sent_at)} · ${alert.kind} · #${alert.watch} ` +
                                    `${alert.question}`),
      el("p", {}, alert.answer)))
      : [el("li", { class: "hint" }, "No alerts yet: they come when an ingest answers a " +
                                      "saved question anew.")]));
  }

  async function saveQuestion(event) {
    event.preventDefault();
    clearError();
    const box = $("saved-question");
    try {
      await api("POST", "/api/watches", { question: box.value.trim() });
    } catch (error) {
      showError(error.message);
      return;
    }
    box.value = "";
    loadSaved();
  }

  function showView(name) {
    for (const tab of document.querySelectorAll(".tab")) {
      const current = tab.dataset.view === name;
      if (current) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
      $(`view-${tab.dataset.view}`).hidden = !current;
    }
    $("passage").hidden = true;
    if (name === "saved") loadSaved();
  }

  // -- start -------------------------------------------------------------------------------

  let started = false;

  function start() {
    if (started) return;
    started = true;
    loadStatus();
    loadTurns();
    renderConversation();
  }

  function wire() {
    $("token-form").addEventListener("submit", useToken);
    $("ask-form").addEventListener("submit", submitQuestion);
    $("question").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submitQuestion();
      }
    });
    $("new-conversation").addEventListener("click", () => {
      turns = [];
      saveTurns();
      renderConversation();
      $("passage").hidden = true;
      clearError();
      $("question").focus();
    });
    $("apply-filters").addEventListener("click", () => {
      const last = turns.length - 1;
      if (last >= 0) ask(turns[last].question, formFilters(), last);
    });
    $("passage-close").addEventListener("click", () => { $("passage").hidden = true; });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !$("passage").hidden) $("passage").hidden = true;
    });
    for (const tab of document.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => showView(tab.dataset.view));
    }
    $("brief-form").addEventListener("submit", showBrief);
    $("timeline-form").addEventListener("submit", showTimeline);
    $("changes-form").addEventListener("submit", showChanges);
    $("saved-form").addEventListener("submit", saveQuestion);
  }

  wire();
  if (tokenRequired && !sessionStorage.getItem(TOKEN_KEY)) askForToken();
  else start();
})();
