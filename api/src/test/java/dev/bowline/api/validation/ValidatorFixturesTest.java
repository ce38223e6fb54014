package dev.bowline.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.Decoded;
import dev.bowline.api.Kind;
import dev.bowline.api.Message;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.Validation;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs {@code invalid/<kind>.yaml}: each document is one case, preceded by {@code # expect: path:
 * text} (an error) and {@code # warn: path: text} lines that must be reported exactly. Documents
 * may leave out apiVersion and metadata; the harness fills them in.
 */
class ValidatorFixturesTest {
  /** One valid and one invalid fixture file per kind: {@code <kind in lower case>.yaml}. */
  static final List<String> FILES =
      java.util.Arrays.stream(Kind.values())
          .map(k -> k.kindName().toLowerCase(java.util.Locale.ROOT) + ".yaml")
          .toList();

  static final List<String> INVALID = FILES;
  static final List<String> VALID = FILES;

  private final ResourceCodec codec = new ResourceCodec();
  private final Validator validator = new Validator();

  record Case(String file, int index, String yaml, List<String> errors, List<String> warnings) {}

  static String read(String name) {
    try (InputStream in = ValidatorFixturesTest.class.getResourceAsStream("/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static List<Case> cases(String file) {
    List<Case> cases = new ArrayList<>();
    String[] docs = read("invalid/" + file).split("(?m)^---\\s*$");
    for (int i = 0; i < docs.length; i++) {
      List<String> errors = new ArrayList<>();
      List<String> warnings = new ArrayList<>();
      StringBuilder yaml = new StringBuilder();
      String kind = null;
      boolean hasMetadata = false;
      for (String line : docs[i].strip().split("\n")) {
        if (line.startsWith("# expect: ")) {
          errors.add(line.substring("# expect: ".length()));
        } else if (line.startsWith("# warn: ")) {
          warnings.add(line.substring("# warn: ".length()));
        } else {
          if (line.startsWith("kind: ")) {
            kind = line.substring(6).strip();
          }
          hasMetadata |= line.startsWith("metadata:");
          yaml.append(line).append('\n');
        }
      }
      Kind k =
          Kind.byName(kind)
              .orElseThrow(() -> new IllegalStateException(file + " case without kind"));
      String header = "apiVersion: " + k.preferredApiVersion() + "\n";
      if (!hasMetadata) {
        header += "metadata: {name: case-" + (i + 1) + ", namespace: test}\n";
      }
      cases.add(new Case(file, i + 1, header + yaml, errors, warnings));
    }
    return cases;
  }

  @TestFactory
  Stream<DynamicTest> invalidCasesReportTheExactFieldPath() {
    return INVALID.stream()
        .flatMap(f -> cases(f).stream())
        .map(
            c ->
                DynamicTest.dynamicTest(
                    c.file() + " #" + c.index() + " " + c.errors(), () -> check(c)));
  }

  private void check(Case c) {
    Decoded d = codec.decode(c.file(), c.yaml());
    List<String> errors =
        new ArrayList<>(d.errors().stream().map(ValidatorFixturesTest::strip).toList());
    List<String> warnings = new ArrayList<>();
    for (Resource<?> r : d.resources()) {
      Validation v = validator.validate(r);
      v.errors().forEach(m -> errors.add(strip(m)));
      v.warnings().forEach(m -> warnings.add(strip(m)));
      assertThat(v.errors())
          .allSatisfy(m -> assertThat(m.resource()).isEqualTo(r.key().toString()));
    }
    assertThat(c.errors()).as("a case must expect at least one error").isNotEmpty();
    assertThat(errors).as(c.yaml()).containsAll(c.errors());
    assertThat(warnings).as(c.yaml()).containsAll(c.warnings());
  }

  private static String strip(Message m) {
    return m.path().isEmpty() ? m.text() : m.path() + ": " + m.text();
  }

  @Test
  void atLeast150InvalidCases() {
    long count = INVALID.stream().mapToLong(f -> cases(f).size()).sum();
    assertThat(count).isGreaterThanOrEqualTo(150);
  }

  @TestFactory
  Stream<DynamicTest> validFixturesHaveNoErrors() {
    return VALID.stream()
        .map(
            f ->
                DynamicTest.dynamicTest(
                    f,
                    () -> {
                      Decoded d = codec.decode(f, read("valid/" + f));
                      assertThat(d.errors()).isEmpty();
                      for (Resource<?> r : d.resources()) {
                        assertThat(validator.validate(r).errors()).as(r.toString()).isEmpty();
                      }
                    }));
  }

  @Test
  void messageNamesKindNamespaceNameAndPath() {
    Decoded d =
        codec.decode(
            "t.yaml",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: forecast, namespace: weather}
            spec:
              hosts: [forecast]
              http:
              - route:
                - destination: {host: forecast, subset: v1}
                  weight: 110
                - destination: {host: forecast, subset: v2}
                  weight: -10
                timeout: 0s
            """);
    Validation v = validator.validate(d.resources().getFirst());
    assertThat(v.errors())
        .extracting(Message::toString)
        .containsExactly(
            "VirtualService weather/forecast: spec.http[0].route[1].weight: must not be negative",
            "VirtualService weather/forecast: spec.http[0].timeout: duration must be at least 1ms");
  }
}
