# One cc_test per *_test.cc file in the calling package.

def cc_unit_tests(deps, tags = {}, exclude = []):
    """Declares a cc_test named after each *_test.cc file of the package.

    Args:
      deps: libraries every test links (gtest/gmock/gtest_main are added).
      tags: test name -> extra tags, for the few tests that need them.
      exclude: *_test.cc files to leave out.
    """
    for src in native.glob(["*_test.cc"], exclude = exclude):
        name = src[:-len(".cc")]
        native.cc_test(
            name = name,
            srcs = [src],
            deps = deps + [
                "@system_libs//:gmock",
                "@system_libs//:gtest",
                "@system_libs//:gtest_main",
            ],
            tags = tags.get(name, []),
        )
