# The project version, read from CMakeLists.txt so both builds agree.
#
#   load("@project_version//:version.bzl", "VERSION")   # e.g. "0.1.0"

def _project_version_impl(ctx):
    cmake = ctx.read(ctx.path(ctx.attr.cmake_lists))
    version = None
    for line in cmake.splitlines():
        words = [w for w in line.replace("\t", " ").replace("(", " ").replace(")", " ").split(" ") if w]
        if len(words) >= 4 and words[0] == "project" and words[2] == "VERSION":
            version = words[3]
            break
    if not version:
        fail("no `project(<name> VERSION x.y.z ...)` line in %s" % ctx.attr.cmake_lists)
    ctx.file("WORKSPACE", "workspace(name = %r)\n" % ctx.name)
    ctx.file("BUILD.bazel", 'exports_files(["version.bzl"])\n')
    ctx.file("version.bzl", "VERSION = %r\n" % version)

project_version = repository_rule(
    implementation = _project_version_impl,
    attrs = {
        "cmake_lists": attr.label(
            default = Label("//:CMakeLists.txt"),
            allow_single_file = True,
        ),
    },
    doc = "Writes version.bzl with VERSION taken from the CMake project() line.",
)
