// Liveness Guard review console. No build step; the only library is the vendored uPlot.
// The administrator key (local runs) lives in a variable of this closure only: never in a URL,
// never in storage. In Azure, App Service Authentication's cookie identifies the reviewer.
(() => {
  "use strict";
  const body = document.body;
  const API = body.dataset.api;
  const KEY_MODE = body.dataset.auth === "key";
  const LANES = ["session", "realface", "uncertain", "spoofface", "timeout", "flag", "decision"];
  const LANE_LABEL = {
    session: "session", realface: "realface", uncertain: "uncertain", spoofface: "spoofface",
    timeout: "timeout", flag: "flagged", decision: "decision",
  };
  let adminKey = null;
  let flags = [];
  let currentStatus = "pending";
  let sort = { key: "age", dir: "descending" };
  let current = null;
  let chart = null;

  const $ = (selector, root = document) => root.querySelector(selector);
  const el = (tag, text, attrs = {}) => {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    return node;
  };
  const say = (text) => { $("#status").textContent = text; };
  const utc = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace("Z", "").replace("+00:00", "") : "");
  const age = (iso) => {
    if (!iso) return "";
    const minutes = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60000));
    if (minutes < 60) return `${minutes} min`;
    if (minutes < 2880) return `${Math.round(minutes / 60)} h`;
    return `${Math.round(minutes / 1440)} d`;
  };

  async function call(method, path, payload) {
    const headers = { Accept: "application/json" };
    if (payload) headers["Content-Type"] = "application/json";
    if (KEY_MODE && adminKey) headers["x-admin-key"] = adminKey;
    const response = await fetch(API + path, {
      method, headers, credentials: "same-origin", cache: "no-store",
      body: payload ? JSON.stringify(payload) : undefined,
    });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((data && data.error && data.error.message) || response.statusText);
      error.status = response.status;
      error.code = data && data.error && data.error.code;
      throw error;
    }
    return data;
  }

  function show(id) {
    for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== id;
    for (const button of document.querySelectorAll("#views [data-view]")) {
      if (button.dataset.view === id || (id === "subject" && button.dataset.view === "flags")) {
        button.setAttribute("aria-current", "page");
      } else {
        button.removeAttribute("aria-current");
      }
    }
  }

  // --- sign in -------------------------------------------------------------------------
  async function start() {
    if (KEY_MODE && !adminKey) {
      show("signin");
      $("#admin-key").focus();
      return;
    }
    try {
      await loadGuidelines();
      await loadFlags(currentStatus);
    } finally {
      // the view buttons appear once the first view is shown: a view chosen earlier would be
      // replaced by the flag list when its load finished
      $("#views").hidden = false;
    }
  }

  $("#signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    adminKey = $("#admin-key").value;
    $("#admin-key").value = "";
    try {
      await call("GET", "/review/flags?status=pending&pageSize=1");
      $("#signin-error").textContent = "";
      await start();
    } catch (error) {
      adminKey = null;
      $("#signin-error").textContent = error.status === 401 ? "That key was not accepted." : error.message;
    }
  });

  $("#sign-out").addEventListener("click", () => {
    adminKey = null;
    $("#views").hidden = true;
    if (KEY_MODE) start(); else window.location.assign("/.auth/logout");
  });

  for (const button of document.querySelectorAll("#views [data-view]")) {
    button.addEventListener("click", () => {
      const view = button.dataset.view;
      if (view === "flags") loadFlags(currentStatus);
      if (view === "overview") loadOverview();
      if (view === "policy") loadPolicy();
      if (view === "calibration") loadCalibration();
      if (view === "determinations") loadDeterminations(currentDStatus);
      if (view === "feedback") loadFeedback();
      if (view === "audit") loadAudit();
    });
  }

  // --- flags ---------------------------------------------------------------------------
  async function loadFlags(status) {
    currentStatus = status;
    for (const button of document.querySelectorAll("[data-status]")) {
      button.setAttribute("aria-pressed", String(button.dataset.status === status));
    }
    const label = { pending: "Subjects pending review", blocked: "Blocked subjects", retired: "Retired subjects" };
    $("#flag-caption").textContent = label[status];
    show("flags");
    say("Loading…");
    try {
      flags = (await call("GET", `/review/flags?status=${status}&pageSize=200`)).items;
      renderFlags();
      say(`${flags.length} ${label[status].toLowerCase()}.`);
    } catch (error) {
      say(`Could not load the list: ${error.message}`);
    }
  }

  function sortValue(item, key) {
    if (key === "age") return Date.parse(item.flaggedAt || item.decidedAt || 0) * -1;
    if (key === "failures") return item.counters.failedChecksInWindow;
    if (key === "spoofs") return item.counters.spooffaceInWindow;
    if (key === "timeouts") return item.counters.timeoutsInWindow;
    return (item[key] || "").toString().toLowerCase();
  }

  function renderFlags() {
    const sign = sort.dir === "ascending" ? 1 : -1;
    const rows = [...flags].sort((a, b) => {
      const x = sortValue(a, sort.key);
      const y = sortValue(b, sort.key);
      return (x < y ? -1 : x > y ? 1 : 0) * sign;
    });
    for (const th of document.querySelectorAll("#flag-table th")) {
      th.setAttribute("aria-sort", $("button", th).dataset.sort === sort.key ? sort.dir : "none");
    }
    const tbody = $("#flag-table tbody");
    tbody.replaceChildren();
    for (const item of rows) {
      const tr = el("tr");
      tr.append(el("td", item.customerId));
      const open = el("button", item.correlationId, { type: "button", "data-open": item.correlationId });
      open.addEventListener("click", () => openSubject(item.customerId, item.correlationId));
      const idCell = el("td");
      idCell.append(open);
      tr.append(idCell);
      const when = item.flaggedAt || item.decidedAt;
      const ageCell = el("td");
      ageCell.append(el("time", age(when), { datetime: when || "" }));
      tr.append(ageCell, el("td", item.reason || ""));
      tr.append(el("td", item.counters.failedChecksInWindow), el("td", item.counters.spooffaceInWindow));
      tr.append(el("td", item.counters.timeoutsInWindow));
      tr.append(el("td", item.claimedBy ? `${item.claimedBy} until ${utc(item.claimedUntil)}` : ""));
      tbody.append(tr);
    }
    $("#flags-empty").hidden = rows.length > 0;
  }

  for (const button of document.querySelectorAll("[data-status]")) {
    button.addEventListener("click", () => loadFlags(button.dataset.status));
  }
  for (const button of document.querySelectorAll("[data-sort]")) {
    button.addEventListener("click", () => {
      const key = button.dataset.sort;
      sort = { key, dir: sort.key === key && sort.dir === "ascending" ? "descending" : "ascending" };
      renderFlags();
    });
  }

  // --- one subject -----------------------------------------------------------------------
  async function openSubject(customerId, correlationId, keepOutcome = false) {
    say("Loading subject…");
    try {
      current = await call("GET", `/review/subjects/${customerId}/${correlationId}`);
    } catch (error) {
      say(`Could not load the subject: ${error.message}`);
      return;
    }
    if (!keepOutcome) $("#outcome").textContent = "";
    renderSubject();
    show("subject");
    $("#subject-title").focus();
    say(`Showing ${correlationId}.`);
  }

  function renderSubject() {
    const s = current;
    $("#subject-title").textContent = `Correlation ID ${s.correlationId}`;
    $("#subject-title").setAttribute("tabindex", "-1");
    const facts = $("#subject-facts");
    facts.replaceChildren();
    const add = (term, value, cls) => {
      facts.append(el("dt", term));
      const dd = el("dd", value);
      if (cls) dd.className = cls;
      facts.append(dd);
    };
    add("Status", s.status, `status-${s.status}`);
    const gate = s.gate || { gated: false };
    const why = (gate.reason || "").replace("erased_", "erased while ").replace("_", " ");
    add("Sessions", gate.gated ? `refused (${why})${gate.until ? ` until ${utc(gate.until)}` : ""}` : "allowed");
    add("Customer", s.customerId);
    add("Flagged at (UTC)", utc(s.flaggedAt) || "—");
    add("Reason", s.reason || "—");
    add("Failed checks in window", s.counters.failedChecksInWindow);
    add("Spoofface decisions in window", s.counters.spooffaceInWindow);
    add("Timeouts in window", s.counters.timeoutsInWindow);
    add("Sessions / attempts in total", `${s.counters.sessionsTotal} / ${s.counters.attemptsTotal}`);
    add("Consent", `policy ${s.consentPolicyVersion}, ${utc(s.consentGrantedAt)}`);
    renderTimeline(s.timeline);
    const decisions = $("#decisions");
    decisions.replaceChildren();
    for (const d of s.decisions) {
      const rule = d.guidelineId ? ` (guideline: ${d.guidelineId})` : "";
      decisions.append(el("li", `${utc(d.at)} — ${d.decision} by ${d.by}${rule}: ${d.reason}`));
    }
    if (!s.decisions.length) decisions.append(el("li", "None yet."));
    const links = $("#links");
    links.replaceChildren();
    for (const [label, guid] of [["Replaces", s.replaces], ["Replaced by", s.replacedBy]]) {
      if (!guid) continue;
      const li = el("li", `${label}: `);
      const button = el("button", guid, { type: "button" });
      button.addEventListener("click", () => openSubject(s.customerId, guid));
      li.append(button);
      links.append(li);
    }
    if (!links.children.length) links.append(el("li", "None."));
    const evidence = $("#face-evidence");
    evidence.replaceChildren();
    for (const m of s.faceEvidence || []) {
      const li = el("li", `${utc(m.at)} — attempt ${m.attemptId} of session ${m.sessionId}: `);
      for (const guid of m.sameFaceCorrelationIds) {
        const button = el("button", guid, { type: "button" });
        button.addEventListener("click", () => openSubject(s.customerId, guid));
        li.append(button, " ");
      }
      if (!m.sameFaceCorrelationIds.length) li.append("no other correlation ID of this customer");
      if (m.otherFlaggedSessionsUnlinked) {
        li.append(` (and ${m.otherFlaggedSessionsUnlinked} session(s) not known here or of another customer)`);
      }
      if (m.lineageMatch) li.append(" — lineage match: only this person's own earlier IDs (reset or override); not flagged");
      evidence.append(li);
    }
    if (!evidence.children.length) evidence.append(el("li", "None."));
    $("#decide-panel").hidden = s.status !== "flagged";
    $("#reset-panel").hidden = s.status === "retired";
    renderCustomer(s);
  }

  async function renderCustomer(s) {
    $("#customer-status").textContent = `Customer ${s.customerId}: ${s.customerStatus || "unknown"}.`;
    const list = $("#customer-determinations");
    list.replaceChildren();
    try {
      const items = (await call("GET", `/review/determinations?customerId=${s.customerId}&pageSize=50`)).items;
      const open = items.filter((d) => !["remediated", "expired", "closed"].includes(d.status));
      for (const d of open) {
        list.append(el("li", `${d.status.replaceAll("_", " ")} — ${d.correlationId}, respond by ${utc(d.respondBy) || "—"}`));
      }
      if (!open.length) list.append(el("li", "No open determinations."));
    } catch (error) {
      list.append(el("li", `Could not load its determinations: ${error.message}`));
    }
  }

  // --- guidelines -------------------------------------------------------------------------
  let guidelines = [];

  async function loadGuidelines() {
    try {
      guidelines = await call("GET", "/review/guidelines");
    } catch (error) {
      guidelines = [];
    }
    const select = $("#decide-guideline");
    select.replaceChildren(el("option", "Choose the guideline…", { value: "" }));
    for (const g of guidelines) select.append(el("option", g.title, { value: g.id }));
    showGuideline();
  }

  function showGuideline() {
    const chosen = guidelines.find((g) => g.id === $("#decide-guideline").value);
    $("#guideline-text").textContent = chosen ? chosen.text : "Each decision names the guideline it followed.";
  }

  $("#decide-guideline").addEventListener("change", showGuideline);

  // --- determinations --------------------------------------------------------------------
  let currentDStatus = "response_received";
  let determination = null;

  async function loadDeterminations(status) {
    currentDStatus = status;
    for (const button of document.querySelectorAll("[data-dstatus]")) {
      button.setAttribute("aria-pressed", String(button.dataset.dstatus === status));
    }
    show("determinations");
    $("#determination-detail").hidden = true;
    say("Loading determinations…");
    let items = [];
    try {
      items = (await call("GET", `/review/determinations?status=${status}&pageSize=200`)).items;
    } catch (error) {
      say(`Could not load: ${error.message}`);
      return;
    }
    const tbody = $("#determination-table tbody");
    tbody.replaceChildren();
    const now = Date.now();
    for (const d of items) {
      const overdue = d.respondBy && Date.parse(d.respondBy) < now && d.status === "awaiting_response";
      const tr = el("tr");
      tr.append(el("td", d.customerId), el("td", d.correlationId), el("td", utc(d.determinedAt)),
        el("td", `${utc(d.respondBy) || "—"}${overdue ? " (overdue)" : ""}`), el("td", d.status.replaceAll("_", " ")));
      const cell = el("td");
      const open = el("button", "Read", { type: "button", "data-determination": d.determinationId });
      open.addEventListener("click", () => openDetermination(d));
      cell.append(open);
      tr.append(cell);
      tbody.append(tr);
    }
    $("#determination-caption").textContent = `Determinations: ${status.replaceAll("_", " ")} (${items.length})`;
    $("#determinations-empty").hidden = items.length > 0;
    say(`${items.length} determinations.`);
  }

  for (const button of document.querySelectorAll("[data-dstatus]")) {
    button.addEventListener("click", () => loadDeterminations(button.dataset.dstatus));
  }

  function openDetermination(d) {
    determination = d;
    const facts = $("#determination-facts");
    facts.replaceChildren();
    const add = (term, value) => facts.append(el("dt", term), el("dd", value ?? "—"));
    add("Customer", d.customerId);
    add("Correlation ID", d.correlationId);
    add("Reason", d.reason);
    add("Severity", d.severity);
    add("Status", d.status.replaceAll("_", " "));
    add("Respond by (UTC)", utc(d.respondBy));
    add("Explanation", d.response && d.response.explanation);
    add("Remediation", d.response && d.response.remediation);
    add("Earlier resolution", d.resolution && `${d.resolution.outcome}: ${d.resolution.reason}`);
    $("#resolve-panel").hidden = d.status !== "response_received";
    $("#resolve-outcome").textContent = "";
    $("#determination-detail").hidden = false;
    $("#determination-title").focus();
  }

  $("#resolve-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const outcome = form.outcome.value;
    const reason = form.reason.value.trim();
    const summary = outcome === "accepted"
      ? `Accept the response of customer ${determination.customerId}: the determination is remediated.`
      : `Reject the response of customer ${determination.customerId}: it may respond again until the deadline.`;
    if (!(await confirmStep(summary))) {
      say("Nothing was changed.");
      return;
    }
    try {
      const done = await call("POST", `/review/determinations/${determination.determinationId}/resolution`,
        { outcome, reason });
      form.reset();
      openDetermination(done);
      $("#resolve-outcome").textContent = `The determination is now ${done.status.replaceAll("_", " ")}.`;
    } catch (error) {
      $("#resolve-outcome").textContent = `Not done: ${error.message}`;
    }
  });

  function renderTimeline(events) {
    const tbody = $("#timeline tbody");
    tbody.replaceChildren();
    for (const e of events) {
      const what = e.kind === "attempt" ? `attempt: ${e.decision || "no decision"}` : LANE_LABEL[e.kind] || e.kind;
      const detail = [e.sessionId && `session ${e.sessionId}`, e.attemptId && `#${e.attemptId}`, e.detail]
        .filter(Boolean).join(" · ");
      const tr = el("tr");
      tr.append(el("td", utc(e.at)), el("td", what), el("td", detail));
      tbody.append(tr);
    }
    drawChart(events);
  }

  function laneOf(e) {
    return e.kind === "attempt" ? (e.decision || "uncertain") : e.kind;
  }

  function drawChart(events) {
    const box = $("#chart");
    if (chart) { chart.destroy(); chart = null; }
    box.replaceChildren();
    box.dataset.points = String(events.length);
    box.setAttribute("aria-label",
      `Timeline chart of ${events.length} events; the same events are listed in the table below.`);
    if (!events.length || typeof uPlot === "undefined") return;
    // one x value per event (a millisecond apart when simultaneous), one series per lane
    const xs = events.map((e, i) => Date.parse(e.at) / 1000 + i / 1000);
    const series = LANES.map((lane) => events.map((e) => (laneOf(e) === lane ? LANES.indexOf(lane) : null)));
    const palette = ["#333", "#1a7f37", "#9a6700", "#a4000f", "#6639ba", "#0b5cad", "#555"];
    const shapes = [4, 6, 6, 8, 6, 9, 6];
    chart = new uPlot({
      width: Math.min(900, box.clientWidth || 900),
      height: 260,
      legend: { show: true },
      scales: { x: { time: true }, y: { range: [-0.5, LANES.length - 0.5] } },
      axes: [
        {},
        { values: (u, splits) => splits.map((v) => LANE_LABEL[LANES[v]] || ""), splits: () => LANES.map((_, i) => i), size: 90 },
      ],
      series: [
        {},
        ...LANES.map((lane, i) => ({
          label: LANE_LABEL[lane], stroke: palette[i], fill: palette[i],
          paths: () => null, points: { show: true, size: shapes[i] + 4, width: 2 },
        })),
      ],
    }, [xs, ...series], box);
  }

  $("#back").addEventListener("click", () => loadFlags(currentStatus));

  // --- decisions -----------------------------------------------------------------------
  function confirmStep(text) {
    const dialog = $("#confirm");
    $("#confirm-text").textContent = text;
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.showModal();
      $("#confirm-ok").focus();
    });
  }

  async function act(path, payload, summary) {
    if (!(await confirmStep(summary))) {
      say("Nothing was changed.");
      return;
    }
    const { customerId, correlationId } = current;
    try {
      const result = await call("POST", `/review/subjects/${customerId}/${correlationId}/${path}`, payload);
      const outcome = $("#outcome");
      outcome.replaceChildren();
      if (result.newCorrelationId) {
        outcome.append(`${correlationId} is now ${result.status}. New correlation ID: `);
        outcome.append(el("code", result.newCorrelationId, { id: "new-guid" }));
      } else {
        outcome.append(`${correlationId} is now ${result.status}.`);
      }
      await openSubject(customerId, correlationId, true);
    } catch (error) {
      $("#outcome").textContent = error.status === 409
        ? `Someone else decided first: ${error.message}` : `Not done: ${error.message}`;
    }
  }

  $("#decide-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    const decision = form.decision.value;
    const reason = form.reason.value.trim();
    const severity = form.severity.value;
    const guidelineId = form.guideline.value;
    const summary = decision !== "confirm"
      ? `Override the flag on ${current.correlationId}: it will be retired and a new correlation ID issued.`
      : severity === "severe"
        ? `Confirm severe abuse for ${current.correlationId}: it will be blocked and the customer suspended at once.`
        : `Confirm abuse for ${current.correlationId}: it will be blocked and the customer notified.`;
    const payload = decision === "confirm"
      ? { decision, reason, guidelineId, severity } : { decision, reason, guidelineId };
    act("decision", payload, summary).then(() => form.reset());
  });

  $("#reset-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    act("reset", { reason: form.reason.value.trim() },
      `Reset ${current.correlationId}: it will be retired and a new correlation ID issued.`).then(() => form.reset());
  });

  // --- overview -------------------------------------------------------------------------
  let overviewCharts = [];
  const duration = (seconds) => (seconds >= 86400 ? `${(seconds / 86400).toFixed(1)} d`
    : seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : `${Math.round(seconds / 60)} min`);
  const percent = (rate) => `${(rate * 100).toFixed(rate * 100 % 1 ? 1 : 0)}%`;

  function rows(tableId, items) {
    const tbody = $(`#${tableId} tbody`);
    tbody.replaceChildren();
    for (const cells of items) {
      const tr = el("tr");
      cells.forEach((cell, i) => tr.append(el(i ? "td" : "th", cell, i ? {} : { scope: "row" })));
      tbody.append(tr);
    }
  }

  async function loadOverview() {
    show("overview");
    say("Loading…");
    let o;
    try {
      o = await call("GET", "/review/overview?days=30");
    } catch (error) {
      say(`Could not load: ${error.message}`);
      return;
    }
    const facts = $("#overview-facts");
    facts.replaceChildren();
    const decided = o.decisions;
    const sla = o.overdue ? `over the ${duration(o.reviewSlaSeconds)} SLA` : `within the ${duration(o.reviewSlaSeconds)} SLA`;
    for (const [term, value] of [
      ["Pending review", String(o.pending)],
      ["Oldest pending", o.pending ? `${duration(o.oldestPendingSeconds)} (${sla})` : "none"],
      ["Past the SLA", String(o.overdue)],
      ["Decisions", `${decided.confirm} confirmed, ${decided.override} overridden, ${decided.reset} reset`],
    ]) {
      facts.append(el("dt", term), el("dd", value, o.overdue && term === "Past the SLA" ? { class: "warn" } : {}));
    }
    rows("overview-days", o.days.map((d) => [d.date, d.flags, d.confirms, d.overrides]));
    const rules = [...new Set([...Object.keys(o.flagsByReason), ...Object.keys(o.overrideRateByReason)])].sort();
    rows("overview-rules", rules.map((r) => [r, o.flagsByReason[r] || 0,
      r in o.overrideRateByReason ? percent(o.overrideRateByReason[r]) : "no decisions"]));
    rows("overview-feedback", Object.entries(o.feedbackByCategory));
    drawOverview(o.days, rules, o.flagsByReason);
    say(`${o.pending} pending; ${o.days.length} days shown.`);
  }

  function drawOverview(days, rules, flagsByReason) {
    for (const c of overviewCharts) c.destroy();
    overviewCharts = [];
    const box = $("#overview-chart");
    box.replaceChildren();
    box.dataset.points = String(days.length);
    box.setAttribute("aria-label",
      `Chart of flags, confirmations and overrides on each of ${days.length} days; the table below has the numbers.`);
    const rulesBox = $("#overview-rules-chart");
    rulesBox.replaceChildren();
    rulesBox.dataset.points = String(rules.length);
    rulesBox.setAttribute("aria-label", `Bar chart of flags per rule for ${rules.length} rules; the table below has the numbers.`);
    if (typeof uPlot === "undefined") return;
    const width = Math.min(900, box.clientWidth || 900);
    const xs = days.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000);
    const line = (label, stroke, dash) => ({ label, stroke, width: 2, dash, points: { show: true, size: 7 } });
    overviewCharts.push(new uPlot({
      width, height: 240, legend: { show: true },
      scales: { x: { time: true }, y: { range: (u, lo, hi) => [0, Math.max(1, hi)] } },
      series: [{}, line("Flags", "#0b5cad"), line("Confirmed", "#a4000f", [6, 3]), line("Overridden", "#1a7f37", [2, 3])],
    }, [xs, days.map((d) => d.flags), days.map((d) => d.confirms), days.map((d) => d.overrides)], box));
    if (!rules.length) return;
    overviewCharts.push(new uPlot({
      width, height: 200, legend: { show: true },
      scales: { x: { time: false, range: [-0.5, rules.length - 0.5] }, y: { range: (u, lo, hi) => [0, Math.max(1, hi)] } },
      axes: [{ values: (u, splits) => splits.map((v) => rules[v] ?? ""), splits: () => rules.map((_, i) => i) }, {}],
      series: [{}, { label: "Flags", stroke: "#0b5cad", fill: "#0b5cad99", paths: uPlot.paths.bars({ size: [0.5] }) }],
    }, [rules.map((_, i) => i), rules.map((r) => flagsByReason[r] || 0)], rulesBox));
  }

  // --- policy evaluation ---------------------------------------------------------------
  const POLICY_FIELDS = [
    ["POLICY_SPOOFS_TO_FLAG", "Spoofface decisions that flag", 1, 50],
    ["POLICY_FAILED_CHECKS_LIMIT", "Failed checks that time out", 1, 100],
    ["POLICY_TIMEOUTS_TO_FLAG", "Timeouts that flag", 1, 50],
    ["POLICY_SESSIONS_PER_HOUR", "Sessions per hour", 1, 60],
    ["POLICY_OPEN_SESSIONS", "Open sessions per subject", 1, 5],
    ["POLICY_IP_FAILED_CHECKS_LIMIT", "Failed checks per address that time it out", 1, 200],
    ["FACE_CLIENT_ATTEMPTS", "Attempts per session", 1, 3],
  ];
  let policyCharts = [];
  let livePolicy = null;
  const fields = $("#policy-form .policy-fields");
  for (const [name, label, min, max] of POLICY_FIELDS) {
    const id = `policy-${name.toLowerCase()}`;
    // no max here: the server validates exactly as start-up does, and names what it refuses
    const input = el("input", "", { id, name, type: "number", min: String(min), inputmode: "numeric", title: `${min}-${max}` });
    fields.append(el("label", `${label} (${name})`, { for: id }), input);
  }
  const show1 = (v) => (v === null || v === undefined ? "—" : String(v));
  const pair = (live, candidate, fmt = show1) => (candidate === undefined ? fmt(live) : `${fmt(live)} → ${fmt(candidate)}`);

  async function loadPolicy() {
    show("policy");
    say("Evaluating…");
    try {
      livePolicy = await call("GET", "/review/policy-evaluation");
    } catch (error) {
      say(`Could not load: ${error.message}`);
      return;
    }
    renderPolicy(livePolicy, null);
    say("The live settings, evaluated.");
  }

  $("#policy-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const settings = {};
    for (const input of fields.querySelectorAll("input")) if (input.value !== "") settings[input.name] = input.value;
    $("#policy-error").textContent = "";
    say("Evaluating…");
    try {
      const both = await call("POST", "/review/policy-evaluation", { settings });
      livePolicy = both.live;
      renderPolicy(both.live, both.candidate);
      say("Candidate settings evaluated beside the live ones.");
    } catch (error) {
      $("#policy-error").textContent = error.message;
      say("");
    }
  });

  function renderPolicy(live, candidate) {
    const other = (rows, i) => (candidate ? candidate[rows][i] : undefined);
    rows("policy-honest", live.honest.map((h, i) => {
      const c = other("honest", i);
      return [percent(h.failRate), pair(h.timedOutPer10000, c?.timedOutPer10000),
        pair(h.flaggedPer10000, c?.flaggedPer10000), pair(h.blockedPer10000, c?.blockedPer10000)];
    }));
    rows("policy-attack", live.attackers.map((a, i) => {
      const c = other("attackers", i);
      return [a.strategy, percent(a.passRate), pair(a.attemptsBeforeFirstRefusal, c?.attemptsBeforeFirstRefusal),
        pair(a.attemptsBeforeFlag, c?.attemptsBeforeFlag), pair(a.neverFlagged, c?.neverFlagged, percent),
        pair(a.passesBeforeStopped, c?.passesBeforeStopped, percent)];
    }));
    const list = $("#policy-assumptions");
    list.replaceChildren(...live.assumptions.map((a) => el("li", a)));
    drawPolicy(live, candidate);
  }

  function drawPolicy(live, candidate) {
    for (const c of policyCharts) c.destroy();
    policyCharts = [];
    const honestBox = $("#policy-honest-chart");
    const attackBox = $("#policy-attack-chart");
    honestBox.replaceChildren();
    attackBox.replaceChildren();
    const strategies = [...new Set(live.attackers.map((a) => a.strategy))];
    honestBox.dataset.points = String(live.honest.length);
    attackBox.dataset.points = String(strategies.length);
    honestBox.setAttribute("aria-label", `Chart of honest people flagged per 10,000 for ${live.honest.length} failure rates; the table below has every number.`);
    attackBox.setAttribute("aria-label", `Chart of the share of attackers whose attack passed first, for ${strategies.length} strategies; the table below has every number.`);
    if (typeof uPlot === "undefined") return;
    const width = Math.min(900, honestBox.clientWidth || 900);
    const line = (label, stroke, dash) => ({ label, stroke, width: 2, dash, points: { show: true, size: 7 } });
    const categories = (labels) => [{ values: (u, splits) => splits.map((v) => labels[v] ?? ""), splits: () => labels.map((_, i) => i) }, {}];
    const rates = live.honest.map((h) => percent(h.failRate));
    const honestSeries = [{}, line("Flagged (live)", "#0b5cad"), line("Timed out (live)", "#6f42c1", [2, 3])];
    const honestData = [rates.map((_, i) => i), live.honest.map((h) => h.flaggedPer10000), live.honest.map((h) => h.timedOutPer10000)];
    if (candidate) {
      honestSeries.push(line("Flagged (candidate)", "#a4000f", [6, 3]));
      honestData.push(candidate.honest.map((h) => h.flaggedPer10000));
    }
    policyCharts.push(new uPlot({
      width, height: 220, legend: { show: true },
      scales: { x: { time: false, range: [-0.5, rates.length - 0.5] }, y: { range: (u, lo, hi) => [0, Math.max(1, hi)] } },
      axes: categories(rates), series: honestSeries,
    }, honestData, honestBox));
    const passRates = [...new Set(live.attackers.map((a) => a.passRate))];
    const colours = ["#0b5cad", "#1a7f37", "#a4000f"];
    const share = (e, s, r) => e.attackers.find((a) => a.strategy === s && a.passRate === r).passesBeforeStopped;
    const attackSeries = [{}, ...passRates.map((r, i) => line(`${percent(r)} passing (live)`, colours[i % 3]))];
    const attackData = [strategies.map((_, i) => i), ...passRates.map((r) => strategies.map((s) => share(live, s, r)))];
    if (candidate) {
      attackSeries.push(line(`${percent(passRates[0])} passing (candidate)`, "#6f42c1", [6, 3]));
      attackData.push(strategies.map((s) => share(candidate, s, passRates[0])));
    }
    policyCharts.push(new uPlot({
      width, height: 240, legend: { show: true },
      scales: { x: { time: false, range: [-0.5, strategies.length - 0.5] }, y: { range: [0, 1] } },
      axes: categories(strategies), series: attackSeries,
    }, attackData, attackBox));
  }

  // --- calibration -----------------------------------------------------------------------
  let calibrationChart = null;
  const maybe = (v, fmt = String) => (v === null || v === undefined ? "—" : fmt(v));

  async function loadCalibration() {
    show("calibration");
    say("Loading…");
    let c;
    try {
      c = await call("GET", "/review/calibration?days=90");
    } catch (error) {
      say(`Could not load: ${error.message}`);
      return;
    }
    const facts = $("#calibration-facts");
    facts.replaceChildren(
      el("dt", "Pairs"), el("dd", String(c.overall.pairs)),
      el("dt", "Agreement"), el("dd", maybe(c.overall.agreement, percent)),
      el("dt", "Kappa"), el("dd", maybe(c.overall.kappa, (k) => k.toFixed(2))),
    );
    const line = (a) => [a.key, a.pairs, maybe(a.agreement, percent), maybe(a.kappa, (k) => k.toFixed(2))];
    rows("calibration-guidelines", c.byGuideline.map(line));
    rows("calibration-reviewers", c.byReviewer.map(line));
    rows("calibration-disagreements", (c.disagreements || []).map((d) => [utc(d.answeredAt), d.subject,
      `${d.first} (${d.firstBy})`, `${d.second} (${d.secondBy})`, d.reason || ""]));
    drawCalibration(c.byGuideline);
    say(`${c.overall.pairs} pairs.`);
  }

  function drawCalibration(groups) {
    if (calibrationChart) calibrationChart.destroy();
    calibrationChart = null;
    const box = $("#calibration-chart");
    box.replaceChildren();
    box.dataset.points = String(groups.length);
    box.setAttribute("aria-label", `Bar chart of agreement per guideline for ${groups.length} guidelines; the table below has every number.`);
    if (typeof uPlot === "undefined" || !groups.length) return;
    const keys = groups.map((g) => g.key);
    calibrationChart = new uPlot({
      width: Math.min(900, box.clientWidth || 900), height: 200, legend: { show: true },
      scales: { x: { time: false, range: [-0.5, keys.length - 0.5] }, y: { range: [0, 1] } },
      axes: [{ values: (u, splits) => splits.map((v) => keys[v] ?? ""), splits: () => keys.map((_, i) => i) }, {}],
      series: [{}, { label: "Agreement", stroke: "#0b5cad", fill: "#0b5cad99", paths: uPlot.paths.bars({ size: [0.5] }) }],
    }, [keys.map((_, i) => i), groups.map((g) => g.agreement ?? 0)], box);
  }

  // --- feedback and audit ----------------------------------------------------------------
  async function fillTable(sectionId, path, columns) {
    show(sectionId);
    say("Loading…");
    try {
      const items = (await call("GET", path)).items;
      const tbody = $(`#${sectionId} tbody`);
      tbody.replaceChildren();
      for (const item of items) {
        const tr = el("tr");
        for (const column of columns) tr.append(el("td", column(item) ?? ""));
        tbody.append(tr);
      }
      say(`${items.length} entries.`);
    } catch (error) {
      say(`Could not load: ${error.message}`);
    }
  }

  const loadFeedback = () => fillTable("feedback", "/review/feedback?pageSize=200",
    [(f) => utc(f.createdAt), (f) => f.category, (f) => f.message, (f) => f.correlationId, (f) => f.contact]);
  const loadAudit = () => fillTable("audit", "/review/audit?pageSize=200",
    [(a) => utc(a.at), (a) => a.actor, (a) => a.action, (a) => a.target, (a) => a.outcome, (a) => a.reason]);

  start();
})();
