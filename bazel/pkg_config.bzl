# System libraries as cc_library targets, described by pkg-config.
#
# The project links only Debian-packaged libraries. Listing their link flags
# by hand does not work (Abseil alone is ~140 libraries with an order that
# changes between releases), so this rule asks pkg-config at fetch time and
# writes one cc_library per entry of `libraries`:
#
#   pkg_config_repository(
#       name = "system_libs",
#       libraries = {"libnl": "libnl-3.0 libnl-genl-3.0"},
#   )
#   # -> @system_libs//:libnl
#
# A module name ending in "*" stands for every installed module with that
# prefix (e.g. "absl_*"). A library without a .pc file has no modules and
# only `extra_linkopts`. Include directories outside the compiler's default
# search path are linked into the repository so Bazel can see the headers.

def _run(ctx, args):
    result = ctx.execute(args)
    if result.return_code != 0:
        fail("`%s` failed:\n%s%s" % (" ".join(args), result.stdout, result.stderr))
    return result.stdout

def _expand_modules(ctx, spec, installed):
    modules = []
    for name in spec.split(" "):
        if not name:
            continue
        if name.endswith("*"):
            matches = sorted([m for m in installed if m.startswith(name[:-1])])
            if not matches:
                fail("no installed pkg-config module matches %s" % name)
            modules.extend(matches)
        else:
            modules.append(name)
    return modules

def _include_link_name(path):
    # "/usr/include/libnl3" -> "include/usr_include_libnl3"
    return "include/" + path.strip("/").replace("/", "_")

def _split_cflags(flags):
    includes, defines, linkopts = [], [], []
    for flag in flags.split(" "):
        if not flag:
            continue
        if flag.startswith("-I"):
            includes.append(flag[2:])
        elif flag.startswith("-D"):
            defines.append(flag[2:])
        elif flag == "-pthread":
            linkopts.append(flag)
        else:
            fail("pkg-config gave a compile flag this rule does not handle: " + flag)
    return includes, defines, linkopts

def _dedup(items):
    seen = {}
    out = []
    for item in items:
        if item not in seen:
            seen[item] = True
            out.append(item)
    return out

def _pkg_config_repository_impl(ctx):
    pkg_config = ctx.which("pkg-config")
    if not pkg_config:
        fail("pkg-config not found; install the Debian package pkg-config")
    pkg_config = str(pkg_config)
    installed = [
        line.split(" ")[0]
        for line in _run(ctx, [pkg_config, "--list-all"]).splitlines()
    ]

    linked_dirs = {}
    build = ['package(default_visibility = ["//visibility:public"])', ""]
    for name in sorted(ctx.attr.libraries.keys()):
        modules = _expand_modules(ctx, ctx.attr.libraries[name], installed)
        cflags, libs = "", ""
        if modules:  # none for a library that ships no .pc file
            cflags = _run(ctx, [pkg_config, "--cflags"] + modules).strip()
            libs = _run(ctx, [pkg_config, "--libs"] + modules).strip()
        include_dirs, defines, linkopts = _split_cflags(cflags)
        linkopts += [f for f in libs.split(" ") if f]
        linkopts += ctx.attr.extra_linkopts.get(name, [])

        includes = []
        for path in _dedup(include_dirs):
            if path in ("/usr/include", "/usr/local/include"):
                continue  # already on the compiler's search path
            link = _include_link_name(path)
            if path not in linked_dirs:
                ctx.symlink(path, link)
                linked_dirs[path] = link
            includes.append(link)

        build.append("cc_library(")
        build.append("    name = %r," % name)
        build.append("    hdrs = glob(%r)," % [d + "/**" for d in includes])
        build.append("    includes = %r," % includes)
        build.append("    defines = %r," % _dedup(defines))
        build.append("    linkopts = %r," % linkopts)
        build.append(")")
        build.append("")

    ctx.file("WORKSPACE", "workspace(name = %r)\n" % ctx.name)
    ctx.file("BUILD.bazel", "\n".join(build))

pkg_config_repository = repository_rule(
    implementation = _pkg_config_repository_impl,
    attrs = {
        "libraries": attr.string_dict(
            mandatory = True,
            doc = "Target name -> space-separated pkg-config modules (may be empty).",
        ),
        "extra_linkopts": attr.string_list_dict(
            doc = "Target name -> link flags pkg-config does not provide.",
        ),
    },
    environ = ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR"],
    configure = True,
    local = True,
    doc = "One cc_library per entry of `libraries`, from pkg-config.",
)
