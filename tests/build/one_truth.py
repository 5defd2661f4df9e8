#!/usr/bin/python3
"""One build truth: CMake and Bazel build the same files under the same names.

Checks, asking each build itself (not parsing its files):

  1. every *.cc/*.h under agent/ client/ common/ control/ datapath/ tests/unit/ bench/
     is in both builds. CMake: the sources of its targets (CMake's File API
     codemodel, written when the build tree is configured), plus the
     project headers they #include, transitively. Bazel: the srcs and hdrs
     of the cc_* rules under //... (`bazel query`);
  2. targets match: each Bazel cc_test and cc_binary is a CMake executable of
     the same name and vice versa (for executables built from those folders);
     each Bazel cc_library //P:N compiles the same .cc files as the CMake
     library l2tp_P (slashes as underscores; _N added when N is not P's last
     folder): //agent/state -> l2tp_agent_state;
  3. no stale system-library deps in Bazel: a target that depends on
     @system_libs//:libnl (liburing, yaml_cpp, prometheus) has a file that
     includes that library's headers.

Usage: one_truth.py [--source-dir DIR] [--build-dir DIR]
Exits 0 when both builds agree, 1 when not, 77 (skipped) when there is no
bazel. BAZEL (env) names the bazel binary; BAZEL_OUTPUT_USER_ROOT is passed
on as scripts/bazel-test.sh does.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

FOLDERS = ["agent", "client", "common", "control", "datapath", "tests/unit", "bench"]
SKIP = 77

# Bazel dep -> what a file that needs it includes.
SYSTEM_LIB_INCLUDES = {
    "@system_libs//:libnl": re.compile(r'#\s*include\s*<netlink/'),
    "@system_libs//:liburing": re.compile(r'#\s*include\s*<liburing'),
    "@system_libs//:yaml_cpp": re.compile(r'#\s*include\s*[<"]yaml-cpp/'),
    "@system_libs//:prometheus": re.compile(r'#\s*include\s*[<"]prometheus/'),
    "@system_libs//:crypto": re.compile(r'#\s*include\s*<openssl/'),
}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def tree_files(src):
    out = set()
    for folder in FOLDERS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(src, folder)):
            dirnames[:] = [d for d in dirnames if d != "build" and not d.startswith("bazel-")]
            for f in filenames:
                if f.endswith((".cc", ".h")):
                    out.add(os.path.relpath(os.path.join(dirpath, f), src))
    return out


def cmake_library_name(label):
    """//agent/state:state -> l2tp_agent_state; //pkg:other -> l2tp_pkg_other."""
    package, _, name = label.lstrip("/").partition(":")
    parts = package.split("/")
    if name and name != parts[-1]:
        parts.append(name)
    return "l2tp_" + "_".join(parts)


def in_folders(path):
    return any(path.startswith(f + "/") for f in FOLDERS)


def read(src, rel):
    try:
        with open(os.path.join(src, rel), encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# ---------------------------------------------------------------- CMake
def cmake_targets(src, build):
    """{name: (type, [source paths relative to src])} from the File API reply."""
    reply = os.path.join(build, ".cmake", "api", "v1", "reply")
    indexes = sorted(glob.glob(os.path.join(reply, "index-*.json")))
    if not indexes and os.path.isfile(os.path.join(build, "CMakeCache.txt")):
        # The query is written while configuring, and CMake reads queries
        # before it configures: a tree configured once has no reply yet.
        print(f"one_truth: no CMake File API reply yet; re-running cmake on {build}")
        subprocess.run(["cmake", build], stdout=subprocess.DEVNULL, check=True)
        indexes = sorted(glob.glob(os.path.join(reply, "index-*.json")))
    if not indexes:
        sys.exit(f"one_truth: no CMake File API reply in {reply}; configure the build "
                 f"(cmake -S {src} -B {build}) first: CMakeLists.txt asks for it")
    with open(indexes[-1]) as f:
        index = json.load(f)
    codemodel = None
    for obj in index.get("objects", []):
        if obj.get("kind") == "codemodel" and obj.get("version", {}).get("major") == 2:
            codemodel = obj["jsonFile"]
    if codemodel is None:
        sys.exit("one_truth: the CMake File API reply has no codemodel-v2")
    with open(os.path.join(reply, codemodel)) as f:
        model = json.load(f)
    src_real = os.path.realpath(src)
    if os.path.realpath(model["paths"]["source"]) != src_real:
        sys.exit(f"one_truth: {build} is configured for {model['paths']['source']}, not {src}")
    targets = {}
    for t in model["configurations"][0]["targets"]:
        with open(os.path.join(reply, t["jsonFile"])) as f:
            target = json.load(f)
        paths = []
        for s in target.get("sources", []):
            if s.get("isGenerated"):
                continue
            p = s["path"]
            if os.path.isabs(p):
                p = os.path.relpath(os.path.realpath(p), src_real)
            paths.append(p)
        targets[target["name"]] = (target["type"], paths)
    return targets


def included_closure(src, files):
    """files plus every project header they include ("..."), transitively."""
    seen = set(files)
    todo = list(files)
    while todo:
        f = todo.pop()
        for inc in INCLUDE_RE.findall(read(src, f)):
            for cand in (inc, os.path.normpath(os.path.join(os.path.dirname(f), inc))):
                if os.path.isfile(os.path.join(src, cand)):
                    if cand not in seen:
                        seen.add(cand)
                        todo.append(cand)
                    break
    return seen


# ---------------------------------------------------------------- Bazel
def label_to_path(label):
    if not label.startswith("//"):
        return None
    pkg, _, name = label[2:].partition(":")
    return f"{pkg}/{name}" if pkg else name


def bazel_rules(src, bazel):
    """[(kind, name, label, [file paths], [dep labels])] of the cc_* rules under //..."""
    startup = ["--max_idle_secs=60"]
    if os.environ.get("BAZEL_OUTPUT_USER_ROOT"):
        startup.append("--output_user_root=" + os.environ["BAZEL_OUTPUT_USER_ROOT"])
    cmd = [bazel] + startup + ["query", "--output=xml", "--noshow_progress",
                               'kind("cc_(library|binary|test) rule", //...)']
    r = subprocess.run(cmd, cwd=src, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("one_truth: bazel query failed:\n" + r.stderr[-3000:])
    rules = []
    for rule in ET.fromstring(r.stdout).iter("rule"):
        label = rule.get("name")
        files, deps = [], []
        for lst in rule.findall("list"):
            vals = [e.get("value") for e in lst.findall("label")]
            if lst.get("name") in ("srcs", "hdrs", "textual_hdrs"):
                files += [p for p in map(label_to_path, vals) if p]
            elif lst.get("name") == "deps":
                deps += vals
        rules.append((rule.get("class"), label.split(":")[-1], label, files, deps))
    return rules


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--source-dir", default=os.path.normpath(os.path.join(here, "..", "..")))
    ap.add_argument("--build-dir", default=None)
    args = ap.parse_args()
    src = os.path.abspath(args.source_dir)
    build = os.path.abspath(args.build_dir or os.path.join(src, "build"))

    bazel = os.environ.get("BAZEL") or shutil.which("bazel")
    if not bazel:
        print("one_truth: SKIP: bazel is not installed")
        return SKIP

    t0 = time.monotonic()
    problems = []
    tree = tree_files(src)
    if len(tree) < 50:
        sys.exit(f"one_truth: only {len(tree)} source files found under {src}; wrong --source-dir?")

    # CMake
    ctargets = cmake_targets(src, build)
    cmake_listed = {p for _, paths in ctargets.values() for p in paths}
    cmake_files = included_closure(src, {p for p in cmake_listed if p.endswith((".cc", ".h"))})

    # Bazel
    brules = bazel_rules(src, bazel)
    bazel_files = {p for _, _, _, files, _ in brules for p in files
                   if os.path.isfile(os.path.join(src, p))}

    # 1. every file in both builds
    for f in sorted(tree):
        where = [b for b, files in (("CMake", cmake_files), ("Bazel", bazel_files)) if f in files]
        if len(where) == 2:
            continue
        missing = " and ".join(b for b in ("CMake", "Bazel") if b not in where)
        problems.append(f"{f}: not in the {missing} build" +
                        (" (CMake: no target lists it and no built file includes it)"
                         if "CMake" not in where else ""))
    for f in sorted((cmake_listed | bazel_files) - tree):
        if in_folders(f) and f.endswith((".cc", ".h")):
            problems.append(f"{f}: in a build but not in the tree")

    # 2. target names
    def ours(paths):
        return any(in_folders(p) for p in paths)

    cmake_exes = {n for n, (t, p) in ctargets.items() if t == "EXECUTABLE" and ours(p)}
    bazel_exes = {n for k, n, _, files, _ in brules if k in ("cc_binary", "cc_test") and ours(files)}
    for n in sorted(bazel_exes - cmake_exes):
        problems.append(f"target {n}: a Bazel cc_test/cc_binary with no CMake executable of that name")
    for n in sorted(cmake_exes - bazel_exes):
        problems.append(f"target {n}: a CMake executable with no Bazel cc_test/cc_binary of that name")
    for k, n, label, files, _ in brules:
        if k not in ("cc_binary", "cc_test") or n not in ctargets:
            continue
        b = {f for f in files if f.endswith(".cc") and f in tree}
        c = {f for f in ctargets[n][1] if f.endswith(".cc")}
        if b != c:
            problems.append(f"target {n}: Bazel {label} compiles {sorted(b)}, CMake {sorted(c)}")
    cmake_libs = {n: frozenset(f for f in p if f.endswith(".cc"))
                  for n, (t, p) in ctargets.items() if t.endswith("LIBRARY") and ours(p)}
    lib_pairs = []
    for k, n, label, files, _ in brules:
        if k != "cc_library":
            continue
        b = frozenset(f for f in files if f.endswith(".cc") and f in tree)
        if not b:
            continue  # header-only (tests/unit/agent/testing) or generated code (proto)
        want = cmake_library_name(label)
        if want not in cmake_libs:
            problems.append(f"library {label}: no CMake library {want} (the name for this label)")
        elif cmake_libs[want] != b:
            problems.append(f"library {label}: compiles {sorted(b)}, CMake {want} {sorted(cmake_libs[want])}")
        else:
            lib_pairs.append((label, want))

    # 3. stale system-library deps. Per package: cc_unit_tests gives all the
    # tests of a package the same deps.
    users = {}  # (package, dep) -> (labels, files)
    for k, n, label, files, deps in brules:
        for dep in SYSTEM_LIB_INCLUDES:
            if dep in deps:
                labels, fs = users.setdefault((label.split(":")[0], dep), ([], []))
                labels.append(label)
                fs.extend(files)
    for (pkg, dep), (labels, files) in sorted(users.items()):
        if not any(SYSTEM_LIB_INCLUDES[dep].search(read(src, f)) for f in files):
            problems.append(f"{', '.join(sorted(labels))}: depend(s) on {dep}, which none of "
                            f"{len(files)} files includes (stale dep?)")

    elapsed = time.monotonic() - t0
    print(f"one_truth: {len(tree)} files under {' '.join(f + '/' for f in FOLDERS)}; "
          f"CMake has {len(cmake_files & tree)}, Bazel {len(bazel_files & tree)}; "
          f"{len(cmake_exes)} CMake executables, {len(bazel_exes)} Bazel binaries and tests; "
          f"libraries: " + ", ".join(f"{b}={c}" for b, c in sorted(lib_pairs)) +
          f" ({elapsed:.1f}s)")
    if problems:
        print(f"one_truth: FAILED, {len(problems)} problems:")
        for p in problems:
            print("  " + p)
        return 1
    print("one_truth: OK, CMake and Bazel build the same files under the same names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
