# C++ (and gRPC C++) from .proto files with the system protoc.
#
# cc_proto_library would build protobuf from source, which needs a download;
# this runs the Debian protoc and grpc_cpp_plugin instead and links the
# Debian libprotobuf/libgrpc++, so generated code and runtime always match.

_PROTOC = "@system_protoc//:protoc"
_GRPC_PLUGIN = "@system_protoc//:grpc_cpp_plugin"
_WELL_KNOWN = "@system_protoc//:well_known_protos"
_WELL_KNOWN_ROOT = "external/system_protoc/include"

def _strip_proto(path):
    if not path.endswith(".proto"):
        fail("not a .proto file: " + path)
    return path[:-len(".proto")]

def cc_grpc_proto_library(name, srcs, grpc_srcs = [], deps = [], visibility = None):
    """cc_library NAME of the messages in `srcs`; NAME_grpc of the services in `grpc_srcs`.

    The package directory is the import root: a file at
    <package>/a/b.proto is imported as "a/b.proto" and its header is
    included as "a/b.pb.h" (".grpc.pb.h" for services).

    Args:
      name: the cc_library.
      srcs: every .proto file, relative to the package.
      grpc_srcs: the subset of srcs whose services need gRPC stubs.
      deps: extra cc_library deps (the protobuf and gRPC runtimes are added).
      visibility: of the cc_library.
    """
    for src in grpc_srcs:
        if src not in srcs:
            fail("grpc_srcs entry %s is not in srcs" % src)

    root = native.package_name() or "."
    hdrs, cc_srcs = [], []
    for src in srcs:
        hdrs.append(_strip_proto(src) + ".pb.h")
        cc_srcs.append(_strip_proto(src) + ".pb.cc")
    grpc_hdrs, grpc_cc_srcs = [], []
    for src in grpc_srcs:
        grpc_hdrs.append(_strip_proto(src) + ".grpc.pb.h")
        grpc_cc_srcs.append(_strip_proto(src) + ".grpc.pb.cc")

    protoc_args = " ".join([
        "--proto_path=" + root,
        "--proto_path=" + _WELL_KNOWN_ROOT,
        "--cpp_out=$(RULEDIR)",
    ])
    cmd = "$(execpath %s) %s %s" % (
        _PROTOC,
        protoc_args,
        " ".join(["%s/%s" % (root, s) for s in srcs]),
    )
    if grpc_srcs:
        cmd += " && $(execpath %s) %s --grpc_out=$(RULEDIR) --plugin=protoc-gen-grpc=$(execpath %s) %s" % (
            _PROTOC,
            protoc_args,
            _GRPC_PLUGIN,
            " ".join(["%s/%s" % (root, s) for s in grpc_srcs]),
        )

    native.genrule(
        name = name + "_generate",
        srcs = srcs + [_WELL_KNOWN],
        outs = hdrs + cc_srcs + grpc_hdrs + grpc_cc_srcs,
        cmd = cmd,
        tools = [_PROTOC, _GRPC_PLUGIN],
        message = "Generating C++ from .proto files in //" + native.package_name(),
    )

    # The messages alone link protobuf and no gRPC; the stubs are a library
    # of their own (NAME_grpc) for the code that serves or calls the API.
    native.cc_library(
        name = name,
        srcs = cc_srcs,
        hdrs = hdrs,
        # Makes the generated headers includable relative to the import root.
        includes = ["."],
        deps = deps + ["@system_libs//:protobuf"],
        visibility = visibility,
    )
    if grpc_srcs:
        native.cc_library(
            name = name + "_grpc",
            srcs = grpc_cc_srcs,
            hdrs = grpc_hdrs,
            includes = ["."],
            deps = [":" + name, "@system_libs//:grpc"],
            visibility = visibility,
        )
