package dev.bowline.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TimeZone;
import java.util.function.IntUnaryOperator;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * {@link ArrayHeaders} against Netty's {@code DefaultHttpHeaders} with the same validators: random
 * sequences of operations (names in several cases, String and AsciiString, multi-values, removal in
 * the middle, growth past the initial capacity, bad names and values) applied to both, and after
 * each one everything either map shows compared: each operation's exception (class and message),
 * size, entries and their order through every iterator, names, and for every name of the pool
 * get/getAll/contains/getInt/getShort/getTimeMillis/value iterators and contains with and without
 * values and case. The encoder's bytes are compared with Netty's form.
 */
class ArrayHeadersEquivalenceTest {
  private static final String[] NAMES = {
    "host",
    "Host",
    "HOST",
    "x-request-id",
    "X-Request-Id",
    "content-length",
    "Content-Length",
    "accept",
    "x-envoy-expected-rq-timeout-ms",
    "a",
    "A",
    "b",
    "x-forwarded-proto",
    "bad name",
    "",
    "x\u0000y",
    "caf\u00e9",
    "x:y",
  };

  private static final String[] VALUES = {
    "1",
    "42",
    "-3",
    "65536",
    "abc",
    "ABC",
    "a, b",
    "A, B",
    "Tue, 15 Nov 1994 08:12:31 GMT",
    "",
    "ok",
    " lead",
    "v\r\nx",
    "x\u0001",
    "tab\tin",
    "caf\u00e9",
    "a ,b,",
    " , B",
    "ok,",
    "keep-alive, Upgrade",
  };

  @Test
  void randomOperationSequencesBehaveAsNettysMap() {
    for (int seed = 0; seed < 3000; seed++) {
      Random r = new Random(seed);
      run(r::nextInt, 1 + r.nextInt(60), "seed " + seed);
    }
  }

  @Test
  void growsPastItsCapacityAndKeepsOrder() {
    HttpHeaders a = Http1Decoding.checkedHeaders();
    HttpHeaders b = netty();
    for (int i = 0; i < 100; i++) {
      String name = "x-h" + (i % 7 == 0 ? "X" : "") + i % 23;
      a.add(name, "v" + i);
      b.add(name, "v" + i);
      if (i % 10 == 9) {
        a.remove("x-h" + (i % 23));
        b.remove("x-h" + (i % 23));
      }
      compare(a, b, "growth " + i);
    }
  }

  /** Names for {@link #removePrefixedRemovesWhatRemovingEachChosenNameWould}. */
  private static final String[] ENVOY_NAMES = {
    "x-envoy-retry-on",
    "X-Envoy-Retry-On",
    "x-envoy-internal",
    "X-ENVOY-INTERNAL",
    "x-envoy-",
    "x-envoy",
    "x-envoyx-a",
    "host",
    "x-request-id",
    "x-envoy-foo",
  };

  @Test
  void removePrefixedRemovesWhatRemovingEachChosenNameWould() {
    AsciiString prefix = AsciiString.cached("x-envoy-");
    java.util.function.Predicate<CharSequence> which = n -> n.length() % 3 != 0;
    for (int seed = 0; seed < 300; seed++) {
      Random r = new Random(seed);
      HttpHeaders inPlace = Http1Decoding.checkedHeaders();
      HttpHeaders iterated = netty();
      HttpHeaders expected = netty();
      for (int i = 0, n = r.nextInt(20); i < n; i++) {
        String name = ENVOY_NAMES[r.nextInt(ENVOY_NAMES.length)];
        CharSequence as = r.nextBoolean() ? name : new AsciiString(name);
        inPlace.add(as, "v" + i);
        iterated.add(as, "v" + i);
        expected.add(as, "v" + i);
      }
      for (String name : ENVOY_NAMES) {
        if (name.regionMatches(true, 0, "x-envoy-", 0, 8) && which.test(name)) {
          expected.remove(name);
        }
      }
      Http1Decoding.removePrefixed(inPlace, prefix, which);
      Http1Decoding.removePrefixed(iterated, prefix, which);
      compare(inPlace, expected, "seed " + seed + " in place");
      assertThat(charSequences(iterated)).as("seed " + seed).isEqualTo(charSequences(expected));
    }
  }

  @FuzzTest(maxDuration = "10s")
  void anyOperationSequenceBehavesAsNettysMap(FuzzedDataProvider data) {
    run(
        bound -> data.remainingBytes() == 0 ? 0 : data.consumeInt(0, bound - 1),
        data.consumeInt(1, 80),
        "fuzz");
  }

  private static HttpHeaders netty() {
    return DefaultHttpHeadersFactory.headersFactory().newHeaders();
  }

  /** {@code ops} random operations, choices from {@code next} (a bound in, a choice below it). */
  private static void run(IntUnaryOperator next, int ops, String what) {
    HttpHeaders a =
        next.applyAsInt(2) == 0
            ? Http1Decoding.checkedHeaders()
            : Http1Decoding.config(4096, 8192, 8192).getHeadersFactory().newEmptyHeaders();
    HttpHeaders b = netty();
    assertThat(a).isInstanceOf(ArrayHeaders.class);
    boolean compared = false;
    for (int i = 0; i < ops; i++) {
      int op = next.applyAsInt(22);
      CharSequence name = name(next);
      Object value = value(next);
      String step = what + " op " + i + " (" + op + " " + name + "=" + value + ")";
      List<CharSequence> held = held(a, b);
      String ea = apply(a, op, name, value, next.applyAsInt(4));
      String eb = apply(b, op, name, value, -1 /* same choice, below */);
      assertThat(ea).as(step).isEqualTo(eb);
      if (!compared || !same(held, held(a, b))) {
        // what a map shows is a function of the names and values it holds: when neither map's
        // changed (a rejected name or value, a removal of what is not there), the last step's
        // comparison stands
        compare(a, b, step);
        compared = true;
      }
      if (op == 21) {
        // copies are equal maps of their own: writes to one leave the other as it was
        HttpHeaders ca = a.copy();
        HttpHeaders cb = b.copy();
        compare(ca, cb, step + " copy");
        ca.add("x-copy", "1");
        cb.add("x-copy", "1");
        compare(a, b, step + " after copy");
        compare(ca, cb, step + " copy written");
        assertThat(ca).as(step).isEqualTo(ca.copy()).hasSameHashCodeAs(ca.copy());
        assertThat(a.equals(ca)).as(step).isEqualTo(b.equals(cb));
      }
    }
  }

  private static final CharSequence BETWEEN = new AsciiString("between the maps");

  /** The names and values the two maps hold, in order: the very objects. */
  private static List<CharSequence> held(HttpHeaders a, HttpHeaders b) {
    List<CharSequence> out = new ArrayList<>();
    for (HttpHeaders h : List.of(a, b)) {
      Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
      while (it.hasNext()) {
        Map.Entry<CharSequence, CharSequence> e = it.next();
        out.add(e.getKey());
        out.add(e.getValue());
      }
      out.add(BETWEEN);
    }
    return out;
  }

  /** Whether {@code x} and {@code y} hold the same objects in the same order. */
  private static boolean same(List<CharSequence> x, List<CharSequence> y) {
    if (x.size() != y.size()) {
      return false;
    }
    for (int i = 0; i < x.size(); i++) {
      if (x.get(i) != y.get(i)) {
        return false;
      }
    }
    return true;
  }

  private static int lastPick;

  /** Applies operation {@code op} and returns its exception's class and message, or "". */
  private static String apply(HttpHeaders h, int op, CharSequence name, Object value, int pick) {
    if (pick >= 0) {
      lastPick = pick;
    }
    int p = lastPick;
    try {
      switch (op) {
        case 0, 1, 2, 3 -> h.add(name, value);
        case 4 -> h.add(name.toString(), value);
        case 5 -> h.set(name, value);
        case 6 -> h.set(name.toString(), value);
        case 7 -> h.add(name, Arrays.asList(value, VALUES[p], "z"));
        case 8 -> h.set(name, Arrays.asList(value, p == 0 ? null : VALUES[p], "z"));
        case 9 -> h.remove(name);
        case 10 -> h.remove(name.toString());
        case 11 -> h.addInt(name, p * 1000 - 7);
        case 12 -> h.setInt(name, p - 2);
        case 13 -> h.addShort(name, (short) (p * 300));
        case 14 -> h.setShort(name, (short) p);
        case 15 -> h.add(name, new Date(784887151000L + p * 86_400_000L));
        case 16 -> {
          Calendar c = Calendar.getInstance(TimeZone.getTimeZone("GMT"));
          c.setTimeInMillis(784887151000L);
          h.set(name, c);
        }
        case 17 -> { // removal in the middle through the entries' iterator
          Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
          int k = 0;
          while (it.hasNext()) {
            it.next();
            if (k++ % (p + 2) == 1) {
              it.remove();
            }
          }
        }
        case 18 -> { // a name's values read through its iterator while the map is written
          Iterator<? extends CharSequence> it = h.valueCharSequenceIterator(name);
          if (it.hasNext()) {
            h.add(name.toString() + "-2", it.next().toString());
          }
        }
        case 19 -> {
          if (p == 0) {
            h.clear();
          } else {
            h.add(name, (Object) null);
          }
        }
        case 20 -> {
          HttpHeaders other = h instanceof ArrayHeaders ? Http1Decoding.checkedHeaders() : netty();
          other.add("x-other", "1").add(name, value.toString());
          if (p % 2 == 0) {
            h.add(other);
          } else {
            h.set(other);
          }
        }
        default -> {}
      }
      return "";
    } catch (RuntimeException e) {
      return e.getClass().getName() + ": " + e.getMessage();
    }
  }

  private static CharSequence name(IntUnaryOperator next) {
    String n = NAMES[next.applyAsInt(NAMES.length)];
    return next.applyAsInt(2) == 0 ? n : new AsciiString(n);
  }

  private static Object value(IntUnaryOperator next) {
    String v = VALUES[next.applyAsInt(VALUES.length)];
    return switch (next.applyAsInt(3)) {
      case 0 -> v;
      case 1 -> new AsciiString(v);
      default -> new StringBuilder(v);
    };
  }

  /**
   * Everything the two maps show, compared: each map's observations in one list ({@link #observe}),
   * the two lists compared with {@code equals}; when they differ, the labelled lists are compared
   * by AssertJ, whose message names what differs. (One AssertJ assertion per observation, some
   * 2,800 per step, made this the suite's slowest class: minutes.)
   */
  private static void compare(HttpHeaders a, HttpHeaders b, String step) {
    List<Object> seenA = observe(a, false);
    List<Object> seenB = observe(b, false);
    if (!seenA.equals(seenB)) {
      assertThat(observe(a, true)).as(step).isEqualTo(observe(b, true));
      throw new AssertionError(step + ": equal as text, not as values: " + seenA + " " + seenB);
    }
    if (a instanceof ArrayHeaders array) {
      // the encoder's loop writes what Netty's writes for the same entries: name ": " value CRLF
      ByteBuf buf = Unpooled.buffer(8);
      try {
        array.encode(buf);
        // Netty's HttpHeadersEncoder: an AsciiString's bytes, other text as US-ASCII
        ByteBuf expected = Unpooled.buffer(8);
        Iterator<Map.Entry<CharSequence, CharSequence>> it = b.iteratorCharSequence();
        while (it.hasNext()) {
          Map.Entry<CharSequence, CharSequence> e = it.next();
          for (CharSequence s : List.of(e.getKey(), ": ", e.getValue(), "\r\n")) {
            if (s instanceof AsciiString as) {
              expected.writeBytes(as.array(), as.arrayOffset(), as.length());
            } else {
              expected.writeCharSequence(s, StandardCharsets.US_ASCII);
            }
          }
        }
        byte[] bytes = new byte[expected.readableBytes()];
        expected.readBytes(bytes).release();
        assertThat(new String(buf.array(), 0, buf.readableBytes(), StandardCharsets.ISO_8859_1))
            .as(step)
            .isEqualTo(new String(bytes, StandardCharsets.ISO_8859_1));
      } finally {
        buf.release();
      }
    }
  }

  /**
   * What {@code h} shows, in a fixed order: size, emptiness, entries through every iterator, names
   * (a set: compared without order), its text, and for every name of the pool, as a String and as
   * an AsciiString, get/getAll/contains/getInt/getShort/getTimeMillis/value iterators and contains
   * with and without values and case, the String overloads ({@code get(String)}, ...) too, once per
   * name (the assertions this replaced called them again, with the same String, for the AsciiString
   * form). {@code labelled}: each observation as {@code what = value} text, for a failure's
   * message.
   */
  private static List<Object> observe(HttpHeaders h, boolean labelled) {
    List<Object> out = new ArrayList<>(3000);
    Seen seen =
        (what, name, value) -> out.add(labelled ? what + "(" + name + ") = " + value : value);
    seen.add("size", "", h.size());
    seen.add("isEmpty", "", h.isEmpty());
    seen.add("entries", "", strings(h.entries().iterator()));
    seen.add("iterator", "", strings(h.iterator()));
    seen.add("iteratorAsString", "", strings(h.iteratorAsString()));
    seen.add("iteratorCharSequence", "", charSequences(h));
    seen.add("names", "", new LinkedHashSet<>(h.names()));
    seen.add("toString", "", h.toString().replace(h.getClass().getSimpleName(), ""));
    // Netty's map throws the date parser's checked ParseException (undeclared) where its contract
    // says null (or the default): that is the one difference, on purpose
    boolean netty = !(h instanceof ArrayHeaders);
    for (String n : NAMES) {
      for (CharSequence name : List.of(n, new AsciiString(n))) {
        boolean string = name instanceof String; // the first form: the String overloads too
        String at = labelled ? (string ? "" : "ascii ") + n : "";
        seen.add("get", at, h.get(name));
        seen.add("get(d)", at, h.get(name, "d"));
        seen.add("getAll", at, h.getAll(name));
        seen.add("getAllAsString", at, h.getAllAsString(name));
        seen.add("contains", at, h.contains(name));
        if (string) {
          seen.add("get(String)", at, h.get(n));
          seen.add("getAll(String)", at, h.getAll(n));
          seen.add("contains(String)", at, h.contains(n));
        }
        seen.add("getInt", at, h.getInt(name));
        seen.add("getInt(-9)", at, h.getInt(name, -9));
        seen.add("getShort", at, h.getShort(name));
        seen.add("getShort(-9)", at, h.getShort(name, (short) -9));
        seen.add("getTimeMillis", at, netty ? timeMillis(h, name, null) : h.getTimeMillis(name));
        seen.add(
            "getTimeMillis(-9)",
            at,
            netty ? timeMillis(h, name, -9L) : (Long) h.getTimeMillis(name, -9L));
        seen.add("valueStringIterator", at, strings(h.valueStringIterator(name)));
        seen.add("valueCharSequenceIterator", at, strings(h.valueCharSequenceIterator(name)));
        for (String v : CONTAINED) {
          for (boolean ignoreCase : new boolean[] {false, true}) {
            String with = labelled ? at + ", " + v + ", " + ignoreCase : "";
            seen.add("contains", with, h.contains(name, v, ignoreCase));
            if (string) {
              seen.add("contains(String)", with, h.contains(n, v, ignoreCase));
            }
            seen.add("containsValue", with, h.containsValue(name, v, ignoreCase));
          }
        }
      }
    }
    return out;
  }

  /** One observation of {@link #observe}. */
  private interface Seen {
    void add(String what, String name, @Nullable Object value);
  }

  private static final List<String> CONTAINED =
      List.of("1", "abc", "ABC", "a", "B", "a, b", "ok", "", "upgrade", "Keep-Alive");

  private static @Nullable Long timeMillis(HttpHeaders h, CharSequence name, @Nullable Long dflt) {
    try {
      return dflt == null ? h.getTimeMillis(name) : (Long) h.getTimeMillis(name, dflt);
    } catch (Exception e) {
      if (e instanceof java.text.ParseException) {
        return dflt;
      }
      throw e;
    }
  }

  private static List<String> charSequences(HttpHeaders h) {
    List<String> out = new ArrayList<>();
    Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
    while (it.hasNext()) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      out.add(e.getKey() + "\u0001" + e.getValue());
    }
    return out;
  }

  private static List<String> strings(Iterator<?> it) {
    List<String> out = new ArrayList<>();
    while (it.hasNext()) {
      out.add(String.valueOf(it.next()));
    }
    return out;
  }
}
