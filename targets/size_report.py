#!/usr/bin/env python3
"""Flash, static RAM and worst-case stack of the fota core on the ESP targets.

Reads the cross build trees made by targets/build.sh (object files, and the
.ci call graphs that gcc writes with -fcallgraph-info=su) and either writes
docs/size-report.md or checks the numbers against targets/budget.txt.
Run through targets/size-report.sh, which builds the trees first.
"""
import argparse
import os
import re
import subprocess
import sys

CPUS = {
    "lx106": {"size": "xtensa-lx106-elf-size", "nm": "xtensa-lx106-elf-nm",
              "chip": "ESP8266 (Xtensa lx106, call0 ABI)"},
    "rv32imc": {"size": "riscv64-unknown-elf-size", "nm": "riscv64-unknown-elf-nm",
                "chip": "ESP32-C3/C6 (RISC-V rv32imc)"},
}
# The recommended buffers are the ESP-IDF component's Kconfig defaults.
KCONFIG = "Kconfig"
BUFFERS = [("rx", "FOTA_RX_BUFFER_SIZE"), ("line", "FOTA_LINE_BUFFER_SIZE"),
           ("url", "FOTA_URL_BUFFER_SIZE"), ("manifest", "FOTA_MANIFEST_BUFFER_SIZE")]
UNKNOWN_STACK_NOTE = ("port callbacks (flash, transport, clock, log, hooks) are not "
                      "included: add the deepest one of your port")


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def find_files(top, suffix, part):
    out = []
    for dirpath, _, names in os.walk(top):
        if part not in dirpath:
            continue
        out += [os.path.join(dirpath, n) for n in names if n.endswith(suffix)]
    return sorted(out)


# ---- section sizes -----------------------------------------------------------

def classify(section):
    if section.startswith((".text", ".literal", ".iram")):
        return "text"
    if section.startswith((".rodata", ".srodata")):
        return "rodata"
    if section.startswith((".data", ".sdata")):
        return "data"
    if section.startswith((".bss", ".sbss")):
        return "bss"
    return None


def object_sizes(size_tool, obj):
    sizes = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for line in run([size_tool, "-A", obj]).splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            kind = classify(parts[0])
            if kind:
                sizes[kind] += int(parts[1])
    return sizes


def module_name(obj):
    base = os.path.basename(obj)
    return re.sub(r"\.c\.(obj|o)$", "", base)


# ---- call graph --------------------------------------------------------------

NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"(?: label: "([^"]*)")?')
STACK = re.compile(r"\\n(\d+) bytes \((static|dynamic|dynamic,bounded)\)")


class CallGraph:
    def __init__(self):
        self.stack = {}     # function -> own frame bytes
        self.dynamic = set()
        self.origin = {}    # function -> "core" | "backend" | "bearssl"
        self.edges = {}
        self.file_of = {}

    def load(self, path, origin):
        src = None
        with open(path) as f:
            for line in f:
                m = NODE.search(line)
                if m:
                    title, label = m.groups()
                    s = STACK.search(label)
                    if s:
                        self.stack[title] = int(s.group(1))
                        if s.group(2) != "static":
                            self.dynamic.add(title)
                        self.origin[title] = origin
                        parts = label.split("\\n")
                        src = parts[1].rsplit(":", 2)[0] if len(parts) > 1 else ""
                        self.file_of[title] = os.path.basename(src)
                    continue
                m = EDGE.search(line)
                if m:
                    target = m.group(2)
                    if target == "__indirect_call":
                        target = ("__indirect_call", m.group(3) or "")
                    self.edges.setdefault(m.group(1), []).append(target)

    def worst(self, fn, indirect_for, memo, path=()):
        """Deepest stack from fn; (bytes, chain, flags)."""
        if fn in memo:
            return memo[fn]
        if fn in path:
            return (0, [fn + " (recursion)"], {"recursive"})
        own = self.stack.get(fn)
        flags = set()
        if own is None:
            # C library or compiler helper: leaf with unknown frame.
            return (0, [fn], {"external:" + fn})
        if fn in self.dynamic:
            flags.add("dynamic:" + fn)
        best = (0, [], set())
        for callee in self.edges.get(fn, []):
            if isinstance(callee, tuple):
                candidates, via_port = indirect_for(fn, callee[1])
                if via_port:
                    flags.add("port-callback")
            else:
                candidates = [callee]
            for c in candidates:
                r = self.worst(c, indirect_for, memo, path + (fn,))
                flags |= r[2]
                if r[0] > best[0] or not best[1]:
                    best = r
        result = (own + best[0], [fn] + best[1], flags | best[2])
        memo[fn] = result
        return result


# The ESP8266 Arduino port runs the signature check on the core's second
# stack (StackThunk: a 16-byte frame of the thunk on the loop stack, then the
# backend's p256_verify on the thunk's own stack).
THUNK_FRAME = 16


def analyse_stack(build, root, thunk_verify=False, with_crypto=True):
    """Worst stack per public entry point. Without the crypto backend
    (with_crypto False) calls through the crypto table count as 0: the
    agent's own stack, to which a port adds its backend's."""
    g = CallGraph()
    for part in ("fota_core.dir", "fota_modem.dir"):
        for ci in find_files(build, ".ci", part):
            g.load(ci, "core")
    for ci in find_files(build, ".ci", "fota_crypto_bearssl.dir") if with_crypto else []:
        g.load(ci, "backend")
    for ci in find_files(build, ".ci", "bearssl.dir") if with_crypto else []:
        if "fota_crypto_bearssl.dir" not in ci:
            g.load(ci, "bearssl")
    backend = [f for f, o in g.origin.items() if o == "backend"]
    if thunk_verify:
        for f in backend:
            if f.split(":")[-1].endswith("_p256_verify"):
                g.stack[f] = THUNK_FRAME
                g.edges[f] = []
    ec_impl = [f for f, o in g.origin.items()
               if o == "bearssl" and g.file_of.get(f, "").startswith("ec_p256_m")]

    def indirect_for(fn, where):
        # The core calls through function pointers into the crypto backend
        # (resolved by the member name at the call site: c->sha256_update(...)
        # -> the backend's *_sha256_update) and into the port (unknown here).
        # BearSSL's own indirect calls go through its EC implementation table.
        origin = g.origin.get(fn)
        if origin == "bearssl":
            return ec_impl, False
        member = call_site_member(where)
        if member:
            hits = [b for b in backend if b.split(":")[-1].endswith("_" + member)]
            if hits:
                return hits, False
        return [], True

    public = public_functions(root)
    rows = {}
    memo = {}
    for fn in sorted(public):
        if fn in g.stack:
            rows[fn] = g.worst(fn, indirect_for, memo)
    if thunk_verify or not with_crypto:
        return rows
    verify = [f for f in backend if f.split(":")[-1].endswith("_p256_verify")]
    rows_second = max((g.worst(f, indirect_for, memo)[0] for f in verify), default=0)
    return rows, rows_second


def call_site_member(where):
    """`path:line:col` of an indirect call -> the struct member called there."""
    m = re.match(r"(.*):(\d+):(\d+)$", where)
    if not m or not os.path.exists(m.group(1)):
        return None
    lines = open(m.group(1)).read().splitlines()
    line_no, col = int(m.group(2)), int(m.group(3))
    if line_no > len(lines):
        return None
    # The call may span lines: look at the statement from its start.
    text = " ".join(lines[line_no - 1:line_no + 2])[max(col - 1, 0):]
    calls = re.findall(r"(?:->|\.)\s*(\w+)\s*\(", lines[line_no - 1][:col + 80])
    calls = calls or re.findall(r"(?:->|\.)\s*(\w+)\s*\(", text)
    return calls[-1] if calls else None


def public_functions(root):
    names = set()
    headers = []
    for inc in (os.path.join(root, "src", "fota"), os.path.join(root, "ports", "modem")):
        headers += [os.path.join(inc, h) for h in sorted(os.listdir(inc)) if h.endswith(".h")]
    for h in headers:
        text = open(h).read()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        for m in re.finditer(r"(?<![(*\w])(fota_[a-z0-9_]+)\s*\(", text):
            names.add(m.group(1))
    return names


# ---- whole report ------------------------------------------------------------

def kconfig_defaults(root):
    text = open(os.path.join(root, KCONFIG)).read()
    values = {}
    for key, sym in BUFFERS:
        m = re.search(r"config " + sym + r"\b.*?default (\d+)", text, flags=re.S)
        if not m:
            sys.exit("size_report: no 'default' for %s in %s" % (sym, KCONFIG))
        values[key] = int(m.group(1))
    return values


def probe_sizes(nm_tool, build):
    objs = find_files(build, ".obj", "fota_size_probe.dir")
    out = {}
    for line in run([nm_tool, "-S"] + objs).splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3].startswith("fota_probe_"):
            out[parts[3][len("fota_probe_"):]] = int(parts[1], 16)
    return out


def core_externals(nm_tool, build):
    objs = find_files(build, ".obj", "fota_core.dir")
    defined, undefined = set(), set()
    for line in run([nm_tool] + objs).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCV":
            defined.add(parts[2])
    return sorted(undefined - defined)


# Optional modules in src/, measured and budgeted on their own like the
# modem driver: the coding half of the delta encoder (host tools and tests;
# devices link only the decoder, which the agent uses and the core counts).
OPTIONAL_MODULES = {"delta_encode": "delta encoder (coding)"}


def transport_flash(data, name):
    t = data["transports"].get(name)
    return t["text"] + t["rodata"] + t["data"] if t else 0


def collect(cpu, build, root):
    tools = CPUS[cpu]
    objs = find_files(build, ".obj", "fota_core.dir")
    modules = {module_name(o): object_sizes(tools["size"], o) for o in objs}
    # The modem driver (ports/modem) is linked only by devices that use it:
    # measured, reported and budgeted on its own.
    transports = {module_name(o): object_sizes(tools["size"], o)
                  for o in find_files(build, ".obj", "fota_modem.dir")}
    transports.update({k: modules.pop(k) for k in list(modules) if k in OPTIONAL_MODULES})
    backend = {module_name(o): object_sizes(tools["size"], o)
               for o in find_files(build, ".obj", "fota_crypto_bearssl.dir")}
    total = {k: sum(m[k] for m in modules.values()) for k in ("text", "rodata", "data", "bss")}
    stack, second_stack = analyse_stack(build, root)
    loop_stack = analyse_stack(build, root, thunk_verify=True) if cpu == "lx106" else {}
    agent_stack = analyse_stack(build, root, with_crypto=False)
    probes = probe_sizes(tools["nm"], build)
    return {"modules": modules, "transports": transports, "backend": backend, "total": total,
            "stack": stack, "loop_stack": loop_stack, "agent_stack": agent_stack,
            "second_stack": second_stack,
            "probes": probes, "externals": core_externals(tools["nm"], build)}


def collect_no_messages(cpu, build, root):
    """The core built with FOTA_NO_MESSAGES (build/<cpu>-no-messages): its
    flash, struct fota and own stack."""
    tools = CPUS[cpu]
    objs = [o for o in find_files(build, ".obj", "fota_core.dir")
            if module_name(o) not in OPTIONAL_MODULES]
    if not objs:
        return None
    total = {k: 0 for k in ("text", "rodata", "data", "bss")}
    for o in objs:
        for k, v in object_sizes(tools["size"], o).items():
            total[k] += v
    return {"total": total, "stack": {}, "agent_stack": analyse_stack(build, root,
                                                                        with_crypto=False),
            "probes": probe_sizes(tools["nm"], build)}


def ram_summary(data, buffers):
    step = data["stack"].get("fota_step", (0, [], set()))[0]
    init = data["stack"].get("fota_init", (0, [], set()))[0]
    peak = max(r[0] for r in data["stack"].values()) if data["stack"] else 0
    agent = data["probes"].get("struct_fota", 0)
    bufs = sum(buffers.values())
    static = data["total"]["data"] + data["total"]["bss"]
    own = data.get("agent_stack") or {}
    peak_own = max(r[0] for r in own.values()) if own else 0
    peak_own_fn = max(own, key=lambda k: own[k][0]) if own else ""
    return {"struct_fota": agent, "buffers": bufs, "peak_stack": peak, "step_stack": step,
            "init_stack": init, "static": static, "total": agent + bufs + peak + static,
            "peak_agent_stack": peak_own, "peak_agent_fn": peak_own_fn,
            "recommended": agent + bufs + peak_own + static}


def flash_total(data):
    t = data["total"]
    return t["text"] + t["rodata"] + t["data"]


def read_budget(root):
    budget = {}
    for line in open(os.path.join(root, "targets", "budget.txt")):
        line = line.split("#", 1)[0].split()
        if len(line) == 3:
            budget[(line[0], line[1])] = int(line[2])
    return budget


def check(results, buffers, root):
    budget = read_budget(root)
    failed = False
    for cpu, data in results.items():
        ram = ram_summary(data, buffers)
        measured = {"flash": flash_total(data), "ram": ram["total"],
                    "agent-ram": ram["recommended"]}
        small = data.get("no_messages")
        if small:
            measured["no-messages-flash"] = flash_total(small)
            measured["no-messages-agent-ram"] = ram_summary(small, buffers)["recommended"]
        for name in sorted(data["transports"]):
            measured[name + "-flash"] = transport_flash(data, name)
        for metric, value in measured.items():
            limit = budget.get((cpu, metric))
            if limit is None:
                print("budget: no %s %s line in targets/budget.txt" % (cpu, metric))
                failed = True
                continue
            ok = value <= limit
            failed |= not ok
            print("budget: %-8s %-5s %7d bytes of %7d (%3d%%) %s" % (
                cpu, metric, value, limit, value * 100 // limit, "ok" if ok else "OVER BUDGET"))
    if failed:
        print("budget: the core grew past targets/budget.txt: shrink it, or raise the "
              "budget in the same commit and say why")
    return 0 if not failed else 1


def fmt_flags(flags):
    notes = []
    if "recursive" in flags:
        notes.append("recursion: unbounded")
    if any(f.startswith("dynamic:") for f in flags):
        notes.append("dynamic frame in " + ", ".join(
            sorted(f[8:] for f in flags if f.startswith("dynamic:"))))
    if "port-callback" in flags:
        notes.append("+ port callback")
    return "; ".join(notes)


def write_report(results, buffers, root, out):
    commit = run(["git", "-C", root, "rev-parse", "--short", "HEAD"]).strip()
    gcc = {cpu: run([CPUS[cpu]["size"].replace("-size", "-gcc"), "--version"]).splitlines()[0]
           for cpu in results}
    L = []
    L.append("# Size and RAM report")
    L.append("")
    L.append("Generated by `targets/size-report.sh` from commit %s: do not edit by hand." % commit)
    L.append("Reproduce (needs the packages listed in docs/targets.md):")
    L.append("")
    L.append("```sh")
    L.append("targets/size-report.sh                 # builds both targets, rewrites this file")
    L.append("targets/size-report.sh --check         # compares with targets/budget.txt")
    L.append("```")
    L.append("")
    L.append("Compilers: " + "; ".join("`%s`" % v for v in gcc.values()) + ".")
    L.append("Flags: `-Os -ffunction-sections -fdata-sections` (+ `-mlongcalls` on lx106, "
             "`-march=rv32imc -mabi=ilp32` on rv32imc), the core compiled with "
             "`-Wall -Wextra -Werror`.")
    L.append("Sizes are per object file (everything the module defines; a link with "
             "`--gc-sections` drops what an application does not call).")
    for cpu, data in results.items():
        L.append("")
        L.append("## %s: flash and static RAM per module (bytes)" % CPUS[cpu]["chip"])
        L.append("")
        L.append("| module | text | rodata | data | bss |")
        L.append("|---|---:|---:|---:|---:|")
        for name, s in sorted(data["modules"].items()):
            L.append("| src/%s.c | %d | %d | %d | %d |" % (name, s["text"], s["rodata"],
                                                         s["data"], s["bss"]))
        t = data["total"]
        L.append("| **core total** | **%d** | **%d** | **%d** | **%d** |" % (
            t["text"], t["rodata"], t["data"], t["bss"]))
        for name, s in sorted(data["backend"].items()):
            L.append("| ports/crypto/%s.c (backend, not in the total) | %d | %d | %d | %d |" % (
                name, s["text"], s["rodata"], s["data"], s["bss"]))
        L.append("")
        L.append("Core flash (text + rodata + data): **%d bytes**." % flash_total(data))
        for name, t in sorted(data["transports"].items()):
            where = ("%s src/%s.c" % (OPTIONAL_MODULES[name], name) if name in OPTIONAL_MODULES
                     else "transport ports/modem/%s.c" % name)
            L.append("Optional %s (linked only when used): text %d, rodata %d, "
                     "data %d, bss %d; flash **%d bytes**." % (where, t["text"], t["rodata"],
                                                              t["data"], t["bss"],
                                                              transport_flash(data, name)))
        L.append("Symbols the core takes from the C library / libgcc: %s." % ", ".join(
            "`%s`" % e for e in data["externals"]))
    L.append("")
    L.append("## Worst-case stack per public entry point (bytes)")
    L.append("")
    L.append("From gcc's `-fstack-usage` frames and `-fcallgraph-info=su` call graphs: the "
             "deepest chain of frames. Calls through the crypto table are resolved to the "
             "BearSSL backend (its own indirect calls to the P-256 implementation table); "
             + UNKNOWN_STACK_NOTE + ". C library and libgcc leaves (memcpy, division "
             "helpers) count as 0.")
    L.append("")
    cpus = list(results)
    L.append("| entry point | " + " | ".join(cpus) + " | deepest chain (%s) | notes |" % cpus[-1])
    L.append("|---|" + "---:|" * len(cpus) + "---|---|")
    names = sorted(set().union(*[set(results[c]["stack"]) for c in cpus]))
    for fn in names:
        vals = [str(results[c]["stack"][fn][0]) if fn in results[c]["stack"] else "-"
                for c in cpus]
        last = results[cpus[-1]]["stack"].get(fn)
        chain = " > ".join(x.split(":")[-1] for x in last[1][:8]) if last else ""
        if last and len(last[1]) > 8:
            chain += " > ..."
        L.append("| %s | %s | %s | %s |" % (fn, " | ".join(vals), chain,
                                          fmt_flags(last[2]) if last else ""))
    lx = results.get("lx106", {}).get("loop_stack")
    if lx:
        full = results["lx106"]["stack"]
        L.append("")
        L.append("## ESP8266 Arduino port: loop stack and second stack (lx106, bytes)")
        L.append("")
        L.append("The port runs the backend's `p256_verify` on the core's second stack "
                 "(`make_stack_thunk`, 6200 bytes, `cores/esp8266/StackThunk.cpp`): the loop "
                 "stack (4096 bytes, `cores/esp8266/cont.h`) holds the chain up to the thunk "
                 "(%d bytes), the second stack the verification. Only entry points whose "
                 "chain changes are listed; the others need on the loop stack what the table "
                 "above says. `tests/target/test_esp8266_stack.c` runs fota_run() this way "
                 "under QEMU with a guard." % THUNK_FRAME)
        L.append("")
        L.append("| entry point | loop stack | second stack | without the thunk |")
        L.append("|---|---:|---:|---:|")
        for fn in sorted(lx):
            if lx[fn][0] == full[fn][0]:
                continue
            second = results["lx106"]["second_stack"]
            L.append("| %s | %d | %d | %d |" % (fn, lx[fn][0], second, full[fn][0]))
    L.append("")
    L.append("## Agent RAM with the recommended configuration")
    L.append("")
    L.append("Recommended buffers = the defaults in `%s`: %s." % (KCONFIG, ", ".join(
        "%s %d" % (k, v) for k, v in buffers.items())))
    L.append("")
    L.append("| | " + " | ".join(cpus) + " |")
    L.append("|---|" + "---:|" * len(cpus))
    rams = {c: ram_summary(results[c], buffers) for c in cpus}
    for key, label in [("struct_fota", "sizeof(struct fota)"), ("buffers", "buffers"),
                       ("peak_agent_stack", "peak agent stack, crypto backend excluded "
                                            "(deepest public entry point)"),
                       ("static", "core .data + .bss"),
                       ("recommended", "**recommended total** (struct + buffers + agent "
                                       "stack)"),
                       ("peak_stack", "peak stack with the BearSSL backend (P-256 verify)"),
                       ("total", "**total with BearSSL**")]:
        L.append("| %s | %s |" % (label, " | ".join(str(rams[c][key]) for c in cpus)))
    L.append("")
    L.append("The agent's own deepest entry point: %s. A port adds its crypto backend's "
             "stack to the recommended total (BearSSL, as measured in the last two rows; "
             "mbedTLS on ESP-IDF: its own task stack)." % ", ".join(
                 "%s `%s`" % (c, rams[c]["peak_agent_fn"]) for c in cpus))
    L.append("")
    L.append("Other structures: " + "; ".join(
        "%s: %s" % (k, ", ".join("%s %d" % (c, results[c]["probes"].get(k, 0)) for c in cpus))
        for k in sorted(results[cpus[0]]["probes"]) if k != "struct_fota") + ".")
    L.append("Not included: the transport's own memory (TLS: mbedTLS on ESP-IDF needs its "
             "record buffers, 4-16 KB; BearSSL on ESP8266 about 22 KB plus a 6 KB stack) and "
             "the stack of the port callbacks.")
    small = {c: results[c].get("no_messages") for c in cpus}
    if all(small.values()):
        L.append("")
        L.append("## Without message text (FOTA_NO_MESSAGES)")
        L.append("")
        L.append("The core compiled with `-DFOTA_NO_MESSAGES` (`src/internal/msg.h`): every failure "
                 "keeps its code, `fota_last_message()` gives the code's name, the log "
                 "callback is not called. Same flags as above.")
        L.append("")
        L.append("| | " + " | ".join(cpus) + " |")
        L.append("|---|" + "---:|" * len(cpus))
        srams = {c: ram_summary(small[c], buffers) for c in cpus}
        L.append("| core flash | %s |" % " | ".join(str(flash_total(small[c])) for c in cpus))
        L.append("| core flash with messages | %s |" % " | ".join(
            str(flash_total(results[c])) for c in cpus))
        L.append("| sizeof(struct fota) | %s |" % " | ".join(
            str(srams[c]["struct_fota"]) for c in cpus))
        L.append("| peak agent stack, crypto backend excluded | %s |" % " | ".join(
            str(srams[c]["peak_agent_stack"]) for c in cpus))
        L.append("| **recommended total** | %s |" % " | ".join(
            str(srams[c]["recommended"]) for c in cpus))
    L.append("")
    L.append("## Budget")
    L.append("")
    L.append("`targets/budget.txt` (checked by the ctest test `target.budget`):")
    L.append("")
    budget = read_budget(root)
    L.append("| target | metric | now | budget |")
    L.append("|---|---|---:|---:|")
    for cpu in cpus:
        L.append("| %s | core flash | %d | %s |" % (cpu, flash_total(results[cpu]),
                                                   budget.get((cpu, "flash"), "-")))
        L.append("| %s | RAM with BearSSL | %d | %s |" % (cpu, rams[cpu]["total"],
                                                         budget.get((cpu, "ram"), "-")))
        L.append("| %s | recommended agent RAM | %d | %s |" % (
            cpu, rams[cpu]["recommended"], budget.get((cpu, "agent-ram"), "-")))
        if small.get(cpu):
            L.append("| %s | core flash, FOTA_NO_MESSAGES | %d | %s |" % (
                cpu, flash_total(small[cpu]), budget.get((cpu, "no-messages-flash"), "-")))
            L.append("| %s | recommended agent RAM, FOTA_NO_MESSAGES | %d | %s |" % (
                cpu, ram_summary(small[cpu], buffers)["recommended"],
                budget.get((cpu, "no-messages-agent-ram"), "-")))
    with open(out, "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="directory holding lx106/ and rv32imc/")
    ap.add_argument("--root", required=True)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--write", help="markdown file to write")
    ap.add_argument("--show", action="store_true", help="print the numbers")
    a = ap.parse_args()
    buffers = kconfig_defaults(a.root)
    results = {cpu: collect(cpu, os.path.join(a.build, cpu), a.root) for cpu in CPUS}
    for cpu in CPUS:
        results[cpu]["no_messages"] = collect_no_messages(
            cpu, os.path.join(a.build, cpu + "-no-messages"), a.root)
    if a.show:
        for cpu, data in results.items():
            print(cpu, "flash", flash_total(data), "ram", ram_summary(data, buffers))
    if a.write:
        write_report(results, buffers, a.root, a.write)
    if a.check:
        return check(results, buffers, a.root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
