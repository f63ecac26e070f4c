#!/usr/bin/env python3
"""A stand-in for Muse's own op log code (muse/core/op_log.py), for interop tests and benchmarks.

It behaves as DESIGN.md §2 describes Muse's writer and reader: entries get UUID op ids and are
appended with ``open(path, "a").write(json.dumps(entry, separators=(",", ":")) + "\\n")`` (no
lock); the Lamport counter starts from the highest ``lamport_ts`` in the file the first time a
process asks for one and is then only incremented; checkpoints are rewritten in place with
``json.dumps(ckpt, indent=2) + "\\n"``; the reader skips lines that do not parse; the structured
delta sorts by ``lamport_ts`` alone and summarises ``domain_op["op"]`` counts in key order.

Command line (all output on stdout as JSON):
  muse_like.py write ROOT SESSION ACTOR COUNT [--domain D]   append COUNT entries, one open/write each
  muse_like.py read ROOT SESSION [--jsonl]                  print read_all() as a JSON array (--jsonl: each
      entry on its own line as Muse's writer lays it out, json.dumps(entry, separators=(",", ":")))
  muse_like.py delta ROOT SESSION DOMAIN                    print to_structured_delta(DOMAIN)
  muse_like.py checkpoint ROOT SESSION SNAPSHOT             write and print a checkpoint
  muse_like.py read-checkpoint ROOT SESSION                 print read_checkpoint() (null if none)
  muse_like.py replay ROOT SESSION                          print replay_since_checkpoint() as a JSON array
  muse_like.py append ROOT SESSION ACTOR LAMPORT DOMAIN_OP [--domain D] [--parent ID]... [--extra OBJECT]
      append one entry made by make_op_entry with the given lamport_ts and domain_op (JSON), plus
      the members of the JSON object --extra (fields Muse does not know), and print its op_id

Test helper (not Muse code, but Muse's own serialisation):
  muse_like.py redump-checkpoint PATH                       print json.dumps(json.loads(file), indent=2) + "\n",
      the bytes Muse's checkpoint() would write for the object the file holds
"""
import datetime
import json
import pathlib
import sys
import uuid

_OP_LOG_DIR = ".muse/op_log"


class OpLog:
    def __init__(self, repo_root, session_id):
        self._session_id = session_id
        self._session_dir = pathlib.Path(repo_root) / _OP_LOG_DIR / session_id
        self._ops_path = self._session_dir / "ops.jsonl"
        self._checkpoint_path = self._session_dir / "checkpoint.json"
        self._lamport = 0

    def _load_lamport(self):
        if not self._ops_path.exists():
            return 0
        highest = 0
        with self._ops_path.open() as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    entry = json.loads(line)
                    highest = max(highest, entry.get("lamport_ts", 0))
                except json.JSONDecodeError:
                    continue
        return highest

    def next_lamport_ts(self):
        if self._lamport == 0:
            self._lamport = self._load_lamport()
        self._lamport += 1
        return self._lamport

    def append(self, entry):
        self._session_dir.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self._ops_path.open("a") as fh:
            fh.write(line)

    def read_all(self):
        if not self._ops_path.exists():
            return []
        entries = []
        with self._ops_path.open() as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        return entries

    def read_checkpoint(self):
        if not self._checkpoint_path.exists():
            return None
        try:
            return json.loads(self._checkpoint_path.read_text())
        except (json.JSONDecodeError, KeyError):
            return None

    def replay_since_checkpoint(self):
        checkpoint = self.read_checkpoint()
        all_entries = self.read_all()
        if checkpoint is None:
            return all_entries
        cutoff = checkpoint["lamport_ts"]
        return [e for e in all_entries if e["lamport_ts"] > cutoff]

    def to_structured_delta(self, domain):
        entries = self.replay_since_checkpoint()
        entries.sort(key=lambda e: e["lamport_ts"])
        ops = [e["domain_op"] for e in entries if e["domain"] == domain]
        counts = {}
        for op in ops:
            kind = op.get("op", "unknown")
            counts[kind] = counts.get(kind, 0) + 1
        parts = [f"{v} {k}" for k, v in sorted(counts.items())]
        summary = ", ".join(parts) if parts else "no ops"
        return {"domain": domain, "ops": ops, "summary": summary}

    def checkpoint(self, snapshot_id):
        all_entries = self.read_all()
        highest_ts = max((e["lamport_ts"] for e in all_entries), default=0)
        ckpt = {
            "session_id": self._session_id,
            "snapshot_id": snapshot_id,
            "lamport_ts": highest_ts,
            "op_count": len(all_entries),
            "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }
        self._session_dir.mkdir(parents=True, exist_ok=True)
        self._checkpoint_path.write_text(json.dumps(ckpt, indent=2) + "\n")
        return ckpt


def make_op_entry(actor_id, domain, domain_op, lamport_ts, parent_op_ids=None, intent_id="", reservation_id=""):
    return {
        "op_id": str(uuid.uuid4()),
        "actor_id": actor_id,
        "lamport_ts": lamport_ts,
        "parent_op_ids": list(parent_op_ids or []),
        "domain": domain,
        "domain_op": domain_op,
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "intent_id": intent_id,
        "reservation_id": reservation_id,
    }


KINDS = ["insert", "delete", "move", "velocity", "tempo"]


def write(root, session, actor, count, domain="music"):
    log = OpLog(root, session)
    for i in range(count):
        op = {"op": KINDS[i % len(KINDS)], "pitch": 60 + i % 12, "text": "caf\u00e9 \u266b", "seq": i}
        log.append(make_op_entry(actor, domain, op, log.next_lamport_ts()))


def _option_values(argv, name):
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == name]


def append_one(root, session, actor, lamport_ts, domain_op, domain="music", parents=(), extra=None):
    entry = make_op_entry(actor, domain, domain_op, lamport_ts, parent_op_ids=parents)
    entry.update(extra or {})
    OpLog(root, session).append(entry)
    return entry["op_id"]


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    command = argv[1]
    if command == "write":
        domain = "music"
        if "--domain" in argv:
            domain = argv[argv.index("--domain") + 1]
        write(argv[2], argv[3], argv[4], int(argv[5]), domain)
    elif command == "read":
        entries = OpLog(argv[2], argv[3]).read_all()
        if "--jsonl" in argv:
            sys.stdout.write("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries))
        else:
            print(json.dumps(entries))
    elif command == "delta":
        print(json.dumps(OpLog(argv[2], argv[3]).to_structured_delta(argv[4])))
    elif command == "checkpoint":
        print(json.dumps(OpLog(argv[2], argv[3]).checkpoint(argv[4])))
    elif command == "read-checkpoint":
        print(json.dumps(OpLog(argv[2], argv[3]).read_checkpoint()))
    elif command == "replay":
        print(json.dumps(OpLog(argv[2], argv[3]).replay_since_checkpoint()))
    elif command == "append":
        domain = (_option_values(argv, "--domain") or ["music"])[-1]
        extra = json.loads((_option_values(argv, "--extra") or ["{}"])[-1])
        parents = _option_values(argv, "--parent")
        print(append_one(argv[2], argv[3], argv[4], int(argv[5]), json.loads(argv[6]), domain, parents, extra))
    elif command == "redump-checkpoint":
        text = pathlib.Path(argv[2]).read_text()
        sys.stdout.write(json.dumps(json.loads(text), indent=2) + "\n")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
