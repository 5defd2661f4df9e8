# One cc_test per *_test.cc file in the calling package.

def cc_unit_tests(deps, data = [], local_defines = []):
    """Declares a cc_test named after each *_test.cc file of the package.

    Other .cc/.h files in the package (fakes, shared fixtures) form a testonly
    library, "test_support", that every test links.

    Args:
      deps: libraries every test links (gtest/gmock/gtest_main are added).
      data: files every test reads at run time, from its runfiles (the
        working directory of a test is the workspace root of its runfiles).
      local_defines: defines for compiling the tests.
    """
    test_deps = deps + [
        "@system_libs//:gmock",
        "@system_libs//:gtest",
    ]
    support_srcs = native.glob(["*.cc"], exclude = ["*_test.cc"])
    support_hdrs = native.glob(["*.h"])
    if support_srcs or support_hdrs:
        native.cc_library(
            name = "test_support",
            testonly = True,
            srcs = support_srcs,
            hdrs = support_hdrs,
            deps = test_deps,
        )
        test_deps = test_deps + [":test_support"]

    for src in native.glob(["*_test.cc"]):
        name = src[:-len(".cc")]
        native.cc_test(
            name = name,
            srcs = [src],
            data = data,
            local_defines = local_defines,
            deps = test_deps + ["@system_libs//:gtest_main"],
        )
