// The status page of an oplog-sync node: fetches /status every second and draws it. Every value
// from the node goes into the page through textContent, never as HTML.
"use strict";

(function () {
  const refreshMilliseconds = 1000;
  let lastGood = null;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function grouped(value) {
    return Number(value).toLocaleString("en-US");
  }

  function duration(seconds) {
    const total = Math.max(0, Math.round(seconds));
    const two = (value) => String(value).padStart(2, "0");
    if (total < 60) return total + " s";
    if (total < 3600) return Math.floor(total / 60) + " min " + two(total % 60) + " s";
    if (total < 86400) return Math.floor(total / 3600) + " h " + two(Math.floor((total % 3600) / 60)) + " min";
    return Math.floor(total / 86400) + " d " + two(Math.floor((total % 86400) / 3600)) + " h";
  }

  function bytes(count) {
    if (count < 1024) return count + " B";
    const units = ["KiB", "MiB", "GiB", "TiB"];
    let value = count;
    for (const unit of units) {
      value /= 1024;
      if (value < 1024 || unit === "TiB") return (Math.round(value * 10) / 10) + " " + unit;
    }
    return count + " B";
  }

  function ago(time) {
    if (!time) return "never";
    const parsed = Date.parse(time);
    if (Number.isNaN(parsed)) return time;
    const seconds = (Date.now() - parsed) / 1000;
    return seconds < 1.5 ? "just now" : duration(seconds) + " ago";
  }

  function facts(pairs) {
    const list = element("dl", "facts");
    for (const [term, value, mono] of pairs) {
      list.append(element("dt", null, term));
      list.append(element("dd", mono ? "mono" : null, value));
    }
    return list;
  }

  // What a peer's card says of its link: a state for the colour and a label.
  function peerState(peer) {
    // A configured address that nothing has answered at since this node started.
    if (!peer.connected && peer.last_seen === null && peer.address !== null) return ["unanswered", "Not answered"];
    if (!peer.connected) return ["offline", "Disconnected"];
    if (peer.catch_up) {
      const percent = peer.catch_up.total === 0 ? 100 : Math.floor((100 * peer.catch_up.done) / peer.catch_up.total);
      return ["sync", "Catching up " + percent + "%"];
    }
    if (peer.lag_entries > 0) return ["behind", grouped(peer.lag_entries) + " behind"];
    return ["ok", "Up to date"];
  }

  function lagText(peer) {
    if (peer.lag_entries === 0) return "none: it holds every entry of this node";
    const noun = peer.lag_entries === 1 ? " entry" : " entries";
    return grouped(peer.lag_entries) + noun + ", oldest " + duration(peer.lag_seconds) + " old";
  }

  function progress(catchUp) {
    const box = element("div", "progress");
    const fraction = catchUp.total === 0 ? 1 : Math.min(1, catchUp.done / catchUp.total);
    const track = element("div", "track");
    track.setAttribute("role", "progressbar");
    track.setAttribute("aria-valuemin", "0");
    track.setAttribute("aria-valuemax", String(catchUp.total));
    track.setAttribute("aria-valuenow", String(catchUp.done));
    const fill = element("div", "fill");
    fill.style.width = (fraction * 100).toFixed(1) + "%";
    track.append(fill);
    const text = element("div", "progress-text");
    text.append(element("span", "catch-up-done", grouped(catchUp.done) + " of " + grouped(catchUp.total) + " entries"));
    const pace = catchUp.rate_per_s > 0 ? grouped(Math.round(catchUp.rate_per_s)) + " entries/s" : "measuring…";
    const eta = catchUp.eta_s === null ? "" : " · ETA " + duration(catchUp.eta_s);
    text.append(element("span", null, pace + eta));
    box.append(track, text);
    return box;
  }

  function peerCard(peer) {
    const [state, label] = peerState(peer);
    const card = element("article", "card");
    card.dataset.state = state;
    if (peer.id !== null) card.dataset.peerId = peer.id;
    const head = element("div", "card-head");
    head.append(element("span", "dot"));
    const name = element("span", "peer-id", peer.id === null ? peer.address : peer.id);
    name.title = peer.id === null ? "configured address; its node has not answered yet" : peer.id;
    if (peer.id !== null && state === "unanswered") name.title = peer.id + ": configured; it has not answered yet";
    head.append(name, element("span", "state", label));
    const body = element("div", "card-body");
    const rows = [];
    if (peer.address !== null) rows.push(["Address", peer.address, true]);
    rows.push(["Lag", lagText(peer)]);
    rows.push(["Last seen", ago(peer.last_seen)]);
    rows.push(["Traffic", "↑ " + bytes(peer.bytes_sent) + "   ↓ " + bytes(peer.bytes_received)]);
    body.append(facts(rows));
    if (peer.catch_up) body.append(progress(peer.catch_up));
    card.append(head, body);
    return card;
  }

  function pendingCard(pending) {
    const card = element("article", "card");
    card.dataset.state = "pending";
    card.dataset.pendingId = pending.id;
    const head = element("div", "card-head");
    head.append(element("span", "dot"), element("span", "peer-id", pending.id), element("span", "state", "Refused"));
    const body = element("div", "card-body");
    body.append(facts([["From", pending.address, true], ["Last attempt", ago(pending.last_attempt)]]));
    const admit = element("div", "admit");
    const option = "--accept " + pending.id;
    const code = element("code", null, option);
    const copy = element("button", null, "Copy");
    copy.type = "button";
    copy.addEventListener("click", () => {
      if (navigator.clipboard) navigator.clipboard.writeText(option).then(() => { copy.textContent = "Copied"; });
    });
    admit.append(code, copy);
    body.append(admit);
    card.append(head, body);
    return card;
  }

  function sessionRow(session) {
    const row = element("tr");
    row.dataset.sessionId = session.id;
    row.append(element("td", null, session.id));
    row.append(element("td", "num", grouped(session.entries)));
    row.append(element("td", "num" + (session.lamport_ts === null ? " none" : ""),
      session.lamport_ts === null ? "–" : grouped(session.lamport_ts)));
    row.append(element("td", session.checkpoint === null ? "none" : "mono", session.checkpoint === null ? "none" : session.checkpoint));
    return row;
  }

  function draw(status) {
    document.title = "oplog-sync · " + status.node_id;
    document.getElementById("node-title").textContent = status.node_id;

    const peers = document.getElementById("peers");
    peers.replaceChildren(...status.peers.map(peerCard));
    if (status.peers.length === 0) {
      peers.append(element("p", "empty", "No peers. Start the node with --peer HOST:PORT to replicate with another."));
    }
    const connected = status.peers.filter((peer) => peer.connected).length;
    document.getElementById("peer-count").textContent = connected + " / " + status.peers.length;

    const pendingSection = document.getElementById("pending-section");
    pendingSection.hidden = status.pending.length === 0;
    document.getElementById("pending").replaceChildren(...status.pending.map(pendingCard));
    document.getElementById("pending-count").textContent = String(status.pending.length);

    const entries = status.sessions.reduce((sum, session) => sum + session.entries, 0);
    document.getElementById("node-facts").replaceWith(Object.assign(facts([
      ["Node ID", status.node_id, true],
      ["Version", status.version],
      ["Listening on", status.listen, true],
      ["Mode", status.read_only ? "read-only (receives, offers nothing of its own)" : "read-write"],
      ["Entries", grouped(entries) + " in " + grouped(status.sessions.length) + (status.sessions.length === 1 ? " session" : " sessions")],
    ]), { id: "node-facts" }));

    const sessions = document.getElementById("sessions");
    sessions.replaceChildren(...status.sessions.map(sessionRow));
    if (status.sessions.length === 0) {
      const row = element("tr");
      const cell = element("td", "none", "No sessions yet.");
      cell.colSpan = 4;
      row.append(cell);
      sessions.append(row);
    }
    document.getElementById("session-count").textContent = String(status.sessions.length);
  }

  function setLive(state, text) {
    const live = document.getElementById("live");
    live.dataset.state = state;
    document.getElementById("live-text").textContent = text;
  }

  async function refresh() {
    try {
      const response = await fetch("/status", { cache: "no-store" });
      if (!response.ok) throw new Error("the node answered " + response.status);
      const status = await response.json();
      lastGood = new Date();
      draw(status);
      document.getElementById("main").classList.remove("stale");
      document.getElementById("banner").hidden = true;
      setLive("live", "live");
    } catch (error) {
      setLive("lost", "not answering");
      const banner = document.getElementById("banner");
      banner.hidden = false;
      banner.textContent = "The node is not answering (" + error.message + ")." +
        (lastGood ? " Showing its state of " + lastGood.toLocaleTimeString() + "." : "");
      document.getElementById("main").classList.add("stale");
    } finally {
      setTimeout(refresh, refreshMilliseconds);
    }
  }

  refresh();
})();
