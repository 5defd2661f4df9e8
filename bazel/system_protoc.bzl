# The system protoc, gRPC C++ plugin and well-known .proto files as labels.
#
# Building protobuf from source (what proto_library/cc_proto_library expect)
# needs a download; the Debian packages already ship a protoc that matches the
# installed libprotobuf, so the build uses those.

_BUILD = """\
package(default_visibility = ["//visibility:public"])

exports_files(["protoc", "grpc_cpp_plugin"])

# google/protobuf/*.proto; import root is "include".
filegroup(
    name = "well_known_protos",
    srcs = glob(["include/google/protobuf/*.proto"]),
)
"""

def _find(ctx, program, package):
    path = ctx.which(program)
    if not path:
        fail("%s not found; install the Debian package %s" % (program, package))
    return path

def _system_protoc_impl(ctx):
    protoc = _find(ctx, "protoc", "protobuf-compiler")
    plugin = _find(ctx, "grpc_cpp_plugin", "protobuf-compiler-grpc")
    ctx.symlink(protoc, "protoc")
    ctx.symlink(plugin, "grpc_cpp_plugin")

    # protoc looks for the well-known types next to itself (<prefix>/include).
    include = protoc.realpath.dirname.dirname.get_child("include")
    if not include.get_child("google").get_child("protobuf").get_child("duration.proto").exists:
        fail("well-known .proto files not found under %s (libprotobuf-dev)" % include)
    ctx.symlink(include.get_child("google").get_child("protobuf"), "include/google/protobuf")

    ctx.file("WORKSPACE", "workspace(name = %r)\n" % ctx.name)
    ctx.file("BUILD.bazel", _BUILD)

system_protoc = repository_rule(
    implementation = _system_protoc_impl,
    configure = True,
    local = True,
    doc = "Exposes the installed protoc and grpc_cpp_plugin to the build.",
)
