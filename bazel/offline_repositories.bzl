# Repositories that Bazel 4.2.3 would otherwise download, made locally.
#
# Bazel's built-in WORKSPACE suffix fetches rules_cc, rules_java and the
# coverage tools from the network, but only if no repository of that name is
# declared already. Declaring these small stand-ins first keeps the build
# offline. They only re-export what Bazel 4.2.3 has built in.

_RULES_CC_DEFS = """\
# Re-exports Bazel's built-in C++ rules under the names @rules_cc provides.
cc_binary = native.cc_binary
cc_import = native.cc_import
cc_library = native.cc_library
cc_proto_library = native.cc_proto_library
cc_shared_library = getattr(native, "cc_shared_library", None)
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
fdo_prefetch_hints = native.fdo_prefetch_hints
fdo_profile = native.fdo_profile
objc_import = native.objc_import
objc_library = native.objc_library
"""

_RULES_CC_BUILD = """\
package(default_visibility = ["//visibility:public"])

alias(
    name = "toolchain_type",
    actual = "@bazel_tools//tools/cpp:toolchain_type",
)

exports_files(["defs.bzl"])
"""

def _rules_cc_stub_impl(ctx):
    ctx.file("WORKSPACE", 'workspace(name = "rules_cc")\n')
    ctx.file("BUILD.bazel", "")
    ctx.file("cc/BUILD.bazel", _RULES_CC_BUILD)
    ctx.file("cc/defs.bzl", _RULES_CC_DEFS)

rules_cc_stub = repository_rule(
    implementation = _rules_cc_stub_impl,
    doc = "A local @rules_cc whose defs.bzl re-exports the native C++ rules.",
)

_RULES_JAVA_DEFS = """\
# Re-exports Bazel's built-in Java rules under the names @rules_java provides.
java_binary = native.java_binary
java_import = native.java_import
java_library = native.java_library
java_lite_proto_library = native.java_lite_proto_library
java_package_configuration = native.java_package_configuration
java_plugin = native.java_plugin
java_proto_library = native.java_proto_library
java_runtime = native.java_runtime
java_test = native.java_test
java_toolchain = native.java_toolchain
"""

def _rules_java_stub_impl(ctx):
    ctx.file("WORKSPACE", 'workspace(name = "rules_java")\n')
    ctx.file("BUILD.bazel", "")
    ctx.file("java/BUILD.bazel", 'exports_files(["defs.bzl"])\n')
    ctx.file("java/defs.bzl", _RULES_JAVA_DEFS)

rules_java_stub = repository_rule(
    implementation = _rules_java_stub_impl,
    doc = "A local @rules_java whose defs.bzl re-exports the native Java rules.",
)

# `bazel coverage` is not supported offline: these targets exist so that test
# rules resolve, and fail loudly if coverage is actually requested.
_COVERAGE_BUILD = """\
package(default_visibility = ["//visibility:public"])

sh_binary(
    name = "lcov_merger",
    srcs = ["unsupported.sh"],
)

sh_binary(
    name = "coverage_report_generator",
    srcs = ["unsupported.sh"],
)
"""

_COVERAGE_SCRIPT = """\
#!/bin/sh
echo "bazel coverage is not supported in this offline build; use CMake" >&2
exit 1
"""

def _coverage_tools_stub_impl(ctx):
    ctx.file("WORKSPACE", 'workspace(name = "remote_coverage_tools")\n')
    ctx.file("BUILD.bazel", _COVERAGE_BUILD)
    ctx.file("unsupported.sh", _COVERAGE_SCRIPT, executable = True)

coverage_tools_stub = repository_rule(
    implementation = _coverage_tools_stub_impl,
    doc = "Stands in for @remote_coverage_tools, which Bazel would download.",
)
