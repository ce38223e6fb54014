package dev.bowline.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.config.PathNormalization.Continue;
import dev.bowline.proxy.config.PathNormalization.EscapedSlashes;
import dev.bowline.proxy.config.PathNormalization.Redirect;
import dev.bowline.proxy.config.PathNormalization.Reject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PathNormalizationTest {
  private static final PathNormalization BASE =
      new PathNormalization(true, false, EscapedSlashes.KEEP_UNCHANGED);

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "/|/",
        "/a/b|/a/b",
        "/a/../b|/b",
        "/a/./b|/a/b",
        "/a/b/..|/a/",
        "/a/b/.|/a/b/",
        "/..|/",
        "/../|/",
        "/a/../../b|/b",
        "/./|/",
        "//|//",
        "/%2e%2e/admin|/admin",
        "/%2E/x|/x",
        "/.%2e/admin|/admin",
        "/%61dmin|/admin",
        "/a%2fb|/a%2Fb",
        "/a%2Fb/../c|/c",
        "/a\\b|/a/b",
        "/public/..\\admin|/admin",
        "/a b|/a%20b",
        "/é|/%C3%A9",
        "/a/..?x=/../y|/?x=/../y",
        "/weather?city=Paris|/weather?city=Paris",
        "/100%|/100%",
        "/a..b/c.|/a..b/c.",
      })
  void normalizesAsEnvoysCanonicalizer(String in, String out) {
    assertThat(BASE.apply(in)).isEqualTo(new Continue(out));
  }

  @Test
  void aPathThatNeedsNothingIsTheSameInstance() {
    String p = "/api/forecast/v2?city=Paris&days=3";
    assertThat(((Continue) BASE.apply(p)).path()).isSameAs(p);
  }

  @Test
  void mergesSlashesAfterNormalizing() {
    var p = new PathNormalization(true, true, EscapedSlashes.KEEP_UNCHANGED);
    assertThat(p.apply("//a///b/./c?q=//x")).isEqualTo(new Continue("/a/b/c?q=//x"));
  }

  @Test
  void escapedSlashesAreKeptRejectedRedirectedOrForwarded() {
    String p = "/a%2Fb%5cc";
    assertThat(BASE.apply(p)).isEqualTo(new Continue("/a%2Fb%5Cc"));
    assertThat(new PathNormalization(true, false, EscapedSlashes.REJECT_REQUEST).apply(p))
        .isInstanceOf(Reject.class);
    assertThat(new PathNormalization(true, false, EscapedSlashes.UNESCAPE_AND_REDIRECT).apply(p))
        .isEqualTo(new Redirect("/a/b/c"));
    // Istio's DECODE_AND_MERGE_SLASHES: "/admin%2F..%2Fpublic" is no longer "/admin..."
    var decode = new PathNormalization(true, true, EscapedSlashes.UNESCAPE_AND_FORWARD);
    assertThat(decode.apply("/public%2F..%2Fadmin")).isEqualTo(new Continue("/admin"));
    assertThat(new PathNormalization(true, false, EscapedSlashes.REJECT_REQUEST).apply("/a/b"))
        .isEqualTo(new Continue("/a/b"));
  }
}
