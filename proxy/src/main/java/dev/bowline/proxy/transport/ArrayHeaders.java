package dev.bowline.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.CharSequenceValueConverter;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP/1 message head's headers without an object per header: names and values in one array
 * (name at {@code 2i}, value at {@code 2i + 1}, in insertion order), grown on demand. Netty's
 * {@code DefaultHttpHeaders} makes a linked entry (32 bytes) per header besides its map, its table
 * and its head entry; a proxied HTTP/1.1 exchange has about 14. Lookups scan the names (a head has
 * ~10) comparing lengths, then the names of the same length ignoring case: no hash array (64 bytes
 * per head), and no hash of the name looked up to compute; a removal shifts the rest down.
 *
 * <p>Observable behaviour is that of {@code DefaultHttpHeaders} with the same validators (proved by
 * {@code ArrayHeadersEquivalenceTest}): the same values in the same order, names as given, {@code
 * get} the first value, {@code set} removes then appends, {@code Date}/{@code Calendar} values in
 * HTTP date form, the same exceptions for bad names and values. {@link #addChecked} skips the
 * validation that {@link FastHead}'s parser has just done byte by byte. Event loop only.
 */
final class ArrayHeaders extends HttpHeaders {
  private static final CharSequence[] NONE = new CharSequence[0];

  private final DefaultHeaders.NameValidator<CharSequence> names;
  private final DefaultHeaders.ValueValidator<CharSequence> values;
  private final int initial;
  private final @Nullable Sizing sizing;
  private CharSequence[] kv;
  private int size;

  /** Empty headers validated by these validators, with room for {@code capacity} before growing. */
  ArrayHeaders(
      DefaultHeaders.NameValidator<CharSequence> names,
      DefaultHeaders.ValueValidator<CharSequence> values,
      int capacity) {
    this(names, values, capacity, null);
  }

  /**
   * Empty headers as above that tell {@code sizing} how many headers they held at most, so that a
   * connection's next head is made with room for what its last heads needed.
   */
  ArrayHeaders(
      DefaultHeaders.NameValidator<CharSequence> names,
      DefaultHeaders.ValueValidator<CharSequence> values,
      int capacity,
      @Nullable Sizing sizing) {
    this.names = names;
    this.values = values;
    this.initial = Math.max(1, capacity);
    this.sizing = sizing;
    this.kv = NONE;
  }

  /**
   * The most headers a connection's heads in one direction have held (the decoded ones and those
   * the proxy added to them later: a keep-alive peer's heads are alike), up to {@link #MAX_HINT}: a
   * new head's array starts with that room instead of a fixed guess. A wrong guess costs only a
   * copy when the head grows. One per decoder; event loop only.
   */
  static final class Sizing {
    /** Beyond this many headers a head starts at this size and grows as any other. */
    static final int MAX_HINT = 32;

    private final int first;
    private int peak;

    /** Sizing whose first head has room for {@code first} headers. */
    Sizing(int first) {
      this.first = first;
    }

    /** Room for the next head's headers. */
    int capacity() {
      return peak == 0 ? first : peak;
    }

    private void held(int n) {
      if (n > peak) {
        peak = Math.min(n, MAX_HINT);
      }
    }
  }

  // ---- storage

  private void append(CharSequence name, CharSequence value) {
    int n = size;
    if (2 * n == kv.length) {
      int cap = n == 0 ? initial : n + Math.max(4, n >> 1);
      kv = Arrays.copyOf(kv, cap * 2);
    }
    kv[2 * n] = name;
    kv[2 * n + 1] = value;
    size = n + 1;
    if (sizing != null) {
      sizing.held(n + 1);
    }
  }

  /** How many headers fit before the array grows (tests). */
  int capacity() {
    return kv == NONE ? initial : kv.length / 2;
  }

  private void removeAt(int i) {
    int n = size - 1;
    if (i < n) {
      System.arraycopy(kv, 2 * i + 2, kv, 2 * i, 2 * (n - i));
    }
    kv[2 * n] = null;
    kv[2 * n + 1] = null;
    size = n;
  }

  /**
   * The index of the first header named {@code name} (any case) at or after {@code from}, or -1.
   */
  private int indexOf(int key, CharSequence name, int from) {
    for (int i = from, n = size; i < n; i++) {
      if (kv[2 * i].length() == key && AsciiString.contentEqualsIgnoreCase(kv[2 * i], name)) {
        return i;
      }
    }
    return -1;
  }

  private int indexOf(CharSequence name) {
    Objects.requireNonNull(name, "name");
    return indexOf(name.length(), name, 0);
  }

  private boolean removeAll(int key, CharSequence name) {
    CharSequence[] a = kv;
    int w = 0;
    int n = size;
    for (int r = 0; r < n; r++) {
      if (a[2 * r].length() == key && AsciiString.contentEqualsIgnoreCase(a[2 * r], name)) {
        continue;
      }
      if (w != r) {
        a[2 * w] = a[2 * r];
        a[2 * w + 1] = a[2 * r + 1];
      }
      w++;
    }
    for (int i = w; i < n; i++) {
      a[2 * i] = null;
      a[2 * i + 1] = null;
    }
    size = w;
    return w != n;
  }

  /**
   * Removes, in one pass and in place, every header whose name starts with {@code prefix} (any
   * case) and that {@code which} accepts; {@code which} sees only the prefixed names. The others
   * keep their order. Allocates nothing.
   */
  void removePrefixed(AsciiString prefix, Predicate<CharSequence> which) {
    CharSequence[] a = kv;
    int p = prefix.length();
    int w = 0;
    int n = size;
    for (int r = 0; r < n; r++) {
      CharSequence name = a[2 * r];
      if (name.length() >= p
          && AsciiString.regionMatches(name, true, 0, prefix, 0, p)
          && which.test(name)) {
        continue;
      }
      if (w != r) {
        a[2 * w] = name;
        a[2 * w + 1] = a[2 * r + 1];
      }
      w++;
    }
    for (int i = w; i < n; i++) {
      a[2 * i] = null;
      a[2 * i + 1] = null;
    }
    size = w;
  }

  /** The name of header {@code i} (0 to {@link #size()} - 1), as added. */
  CharSequence nameAt(int i) {
    return kv[2 * i];
  }

  /** The value of header {@code i} (0 to {@link #size()} - 1), as added. */
  CharSequence valueAt(int i) {
    return kv[2 * i + 1];
  }

  /**
   * Writes every header as {@code name: value CRLF}, as Netty's encoder does, without an iterator.
   */
  void encode(ByteBuf buf) {
    CharSequence[] a = kv;
    for (int i = 0, n = size; i < n; i++) {
      CharSequence name = a[2 * i];
      CharSequence value = a[2 * i + 1];
      int nl = name.length();
      int vl = value.length();
      int len = nl + vl + 4;
      buf.ensureWritable(len);
      int offset = buf.writerIndex();
      writeAscii(buf, offset, name);
      offset += nl;
      buf.setShort(offset, (':' << 8) | ' ');
      offset += 2;
      writeAscii(buf, offset, value);
      offset += vl;
      buf.setShort(offset, ('\r' << 8) | '\n');
      buf.writerIndex(offset + 2);
    }
  }

  private static void writeAscii(ByteBuf buf, int offset, CharSequence value) {
    if (value instanceof AsciiString s) {
      ByteBufUtil.copy(s, 0, buf, offset, value.length());
    } else {
      buf.setCharSequence(offset, value, java.nio.charset.StandardCharsets.US_ASCII);
    }
  }

  // ---- writes

  /** Adds a header whose name and value {@link FastHead} has checked against the validators. */
  void addChecked(CharSequence name, CharSequence value) {
    append(name, value);
  }

  private CharSequence convert(CharSequence name, Object value) {
    Objects.requireNonNull(value, "value");
    try {
      if (value instanceof CharSequence s) {
        return s;
      }
      if (value instanceof Date d) {
        return DateFormatter.format(d);
      }
      if (value instanceof Calendar c) {
        return DateFormatter.format(c.getTime());
      }
      return value.toString();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "Failed to convert object value for header '" + name + '\'', e);
    }
  }

  /** Netty's value validation, with its message naming the header. */
  private void validate(CharSequence name, CharSequence value) {
    try {
      values.validate(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Validation failed for header '" + name + "'", e);
    }
  }

  private void addValidated(CharSequence name, CharSequence value) {
    validate(name, value);
    append(name, value);
  }

  @Override
  public HttpHeaders add(String name, Object value) {
    return add((CharSequence) name, value);
  }

  @Override
  public HttpHeaders add(CharSequence name, Object value) {
    CharSequence v = convert(name, value); // Netty converts, then validates the name
    names.validateName(name);
    addValidated(name, v);
    return this;
  }

  @Override
  public HttpHeaders add(String name, Iterable<?> values) {
    return add((CharSequence) name, values);
  }

  @Override
  public HttpHeaders add(CharSequence name, Iterable<?> values) {
    for (Object v : values) {
      add(name, v);
    }
    return this;
  }

  @Override
  public HttpHeaders add(HttpHeaders headers) {
    if (headers == this) {
      throw new IllegalArgumentException("can't add to itself.");
    }
    if (headers instanceof ArrayHeaders a) {
      for (int i = 0, n = a.size; i < n; i++) {
        append(a.kv[2 * i], a.kv[2 * i + 1]);
      }
      return this;
    }
    Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
    while (it.hasNext()) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      add(e.getKey(), e.getValue());
    }
    return this;
  }

  @Override
  public HttpHeaders set(HttpHeaders headers) {
    if (headers != this) {
      clear();
      add(headers);
    }
    return this;
  }

  @Override
  public HttpHeaders addInt(CharSequence name, int value) {
    return add(name, CharSequenceValueConverter.INSTANCE.convertInt(value));
  }

  @Override
  public HttpHeaders addShort(CharSequence name, short value) {
    return add(name, CharSequenceValueConverter.INSTANCE.convertShort(value));
  }

  @Override
  public HttpHeaders set(String name, Object value) {
    return set((CharSequence) name, value);
  }

  @Override
  public HttpHeaders set(CharSequence name, Object value) {
    CharSequence v = convert(name, value);
    names.validateName(name);
    validate(name, v);
    removeAll(name.length(), name);
    append(name, v);
    return this;
  }

  @Override
  public HttpHeaders set(String name, Iterable<?> values) {
    return set((CharSequence) name, values);
  }

  @Override
  public HttpHeaders set(CharSequence name, Iterable<?> values) {
    names.validateName(name);
    removeAll(name.length(), name);
    for (Object v : values) {
      if (v == null) {
        break; // as Netty's setObject
      }
      addValidated(name, convert(name, v));
    }
    return this;
  }

  @Override
  public HttpHeaders setInt(CharSequence name, int value) {
    return set(name, CharSequenceValueConverter.INSTANCE.convertInt(value));
  }

  @Override
  public HttpHeaders setShort(CharSequence name, short value) {
    return set(name, CharSequenceValueConverter.INSTANCE.convertShort(value));
  }

  @Override
  public HttpHeaders remove(String name) {
    return remove((CharSequence) name);
  }

  @Override
  public HttpHeaders remove(CharSequence name) {
    Objects.requireNonNull(name, "name");
    removeAll(name.length(), name);
    return this;
  }

  @Override
  public HttpHeaders clear() {
    Arrays.fill(kv, 0, 2 * size, null);
    size = 0;
    return this;
  }

  // ---- reads

  /** The first value of {@code name} as it is held (no String made), or null. */
  @Nullable CharSequence first(CharSequence name) {
    int i = indexOf(name);
    return i < 0 ? null : kv[2 * i + 1];
  }

  @Override
  public @Nullable String get(String name) {
    return get((CharSequence) name);
  }

  @Override
  public @Nullable String get(CharSequence name) {
    CharSequence v = first(name);
    return v == null ? null : v.toString();
  }

  @Override
  public @Nullable Integer getInt(CharSequence name) {
    CharSequence v = first(name);
    if (v == null) {
      return null;
    }
    try {
      return CharSequenceValueConverter.INSTANCE.convertToInt(v);
    } catch (RuntimeException e) {
      return null;
    }
  }

  @Override
  public int getInt(CharSequence name, int defaultValue) {
    Integer v = getInt(name);
    return v == null ? defaultValue : v;
  }

  @Override
  public @Nullable Short getShort(CharSequence name) {
    CharSequence v = first(name);
    if (v == null) {
      return null;
    }
    try {
      return CharSequenceValueConverter.INSTANCE.convertToShort(v);
    } catch (RuntimeException e) {
      return null;
    }
  }

  @Override
  public short getShort(CharSequence name, short defaultValue) {
    Short v = getShort(name);
    return v == null ? defaultValue : v;
  }

  @Override
  public @Nullable Long getTimeMillis(CharSequence name) {
    CharSequence v = first(name);
    if (v == null) {
      return null;
    }
    Date date = DateFormatter.parseHttpDate(v); // null when it is no HTTP date
    return date == null ? null : date.getTime();
  }

  @Override
  public long getTimeMillis(CharSequence name, long defaultValue) {
    Long v = getTimeMillis(name);
    return v == null ? defaultValue : v;
  }

  @Override
  public List<String> getAll(String name) {
    return getAll((CharSequence) name);
  }

  @Override
  public List<String> getAll(CharSequence name) {
    int i = indexOf(name);
    if (i < 0) {
      return Collections.emptyList();
    }
    int key = name.length();
    List<String> all = new ArrayList<>(4);
    do {
      all.add(kv[2 * i + 1].toString());
      i = indexOf(key, name, i + 1);
    } while (i >= 0);
    return all;
  }

  @Override
  public boolean contains(String name) {
    return indexOf(name) >= 0;
  }

  @Override
  public boolean contains(CharSequence name) {
    return indexOf(name) >= 0;
  }

  @Override
  public boolean contains(String name, String value, boolean ignoreCase) {
    return contains((CharSequence) name, (CharSequence) value, ignoreCase);
  }

  @Override
  public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
    Objects.requireNonNull(name, "name");
    int key = name.length();
    for (int i = indexOf(key, name, 0); i >= 0; i = indexOf(key, name, i + 1)) {
      CharSequence v = kv[2 * i + 1];
      if (ignoreCase
          ? AsciiString.contentEqualsIgnoreCase(v, value)
          : AsciiString.contentEquals(v, value)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Netty's {@code containsValue} (a value of {@code name} that, split at commas and each part
   * trimmed, has a part equal to {@code value}) by index instead of through a value iterator: no
   * 32-byte iterator per call, and {@code HttpUtil.isKeepAlive} and {@code
   * isTransferEncodingChunked} call it on every HTTP/1 head. Parts are cut and trimmed with the
   * same {@code AsciiString} methods as Netty's, so the answer is the same.
   */
  @Override
  public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
    Objects.requireNonNull(name, "name");
    int key = name.length();
    for (int i = indexOf(key, name, 0); i >= 0; i = indexOf(key, name, i + 1)) {
      if (containsPart(kv[2 * i + 1], value, ignoreCase)) {
        return true;
      }
    }
    return false;
  }

  private static boolean containsPart(CharSequence v, CharSequence value, boolean ignoreCase) {
    int start = 0;
    int comma;
    while ((comma = AsciiString.indexOf(v, ',', start)) != -1) {
      if (trimmedEquals(v.subSequence(start, comma), value, ignoreCase)) {
        return true;
      }
      start = comma + 1;
    }
    if (start == 0) {
      return trimmedEquals(v, value, ignoreCase);
    }
    return start < v.length() && trimmedEquals(v.subSequence(start, v.length()), value, ignoreCase);
  }

  private static boolean trimmedEquals(CharSequence part, CharSequence value, boolean ignoreCase) {
    CharSequence t = AsciiString.trim(part);
    return ignoreCase
        ? AsciiString.contentEqualsIgnoreCase(t, value)
        : AsciiString.contentEquals(t, value);
  }

  @Override
  public boolean isEmpty() {
    return size == 0;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public Set<String> names() {
    if (size == 0) {
      return Collections.emptySet();
    }
    Set<String> set = new LinkedHashSet<>(size * 2);
    for (int i = 0; i < size; i++) {
      set.add(kv[2 * i].toString());
    }
    return set;
  }

  @Override
  public List<Map.Entry<String, String>> entries() {
    if (size == 0) {
      return Collections.emptyList();
    }
    List<Map.Entry<String, String>> list = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      list.add(
          new AbstractMap.SimpleImmutableEntry<>(kv[2 * i].toString(), kv[2 * i + 1].toString()));
    }
    return list;
  }

  @Override
  public Iterator<Map.Entry<String, String>> iterator() {
    return new Entries<String>() {
      @Override
      String convert(CharSequence s) {
        return s.toString();
      }
    };
  }

  @Override
  public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
    return new Entries<CharSequence>() {
      @Override
      CharSequence convert(CharSequence s) {
        return s;
      }
    };
  }

  @Override
  public Iterator<String> valueStringIterator(CharSequence name) {
    Iterator<CharSequence> it = valueCharSequenceIterator(name);
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public String next() {
        return it.next().toString();
      }

      @Override
      public void remove() {
        it.remove();
      }
    };
  }

  /** The index of the last header named {@code name} (any case) before {@code before}, or -1. */
  private int lastIndexOf(int key, CharSequence name, int before) {
    for (int i = before - 1; i >= 0; i--) {
      if (kv[2 * i].length() == key && AsciiString.contentEqualsIgnoreCase(kv[2 * i], name)) {
        return i;
      }
    }
    return -1;
  }

  /** The values of {@code name}, the last added first (as Netty's iterator gives them). */
  @Override
  public Iterator<CharSequence> valueCharSequenceIterator(CharSequence name) {
    Objects.requireNonNull(name, "name");
    int key = name.length();
    return new Iterator<>() {
      int next = lastIndexOf(key, name, size);
      int last = -1;

      @Override
      public boolean hasNext() {
        return next >= 0;
      }

      @Override
      public CharSequence next() {
        if (next < 0) {
          throw new NoSuchElementException();
        }
        last = next;
        next = lastIndexOf(key, name, next);
        return kv[2 * last + 1];
      }

      @Override
      public void remove() {
        if (last < 0) {
          throw new IllegalStateException();
        }
        removeAt(last); // the ones still to come are below it, where they were
        last = -1;
      }
    };
  }

  /** Entries in insertion order; read only, as Netty's. */
  private abstract class Entries<T> implements Iterator<Map.Entry<T, T>> {
    private int next;

    abstract T convert(CharSequence s);

    @Override
    public boolean hasNext() {
      return next < size;
    }

    @Override
    public Map.Entry<T, T> next() {
      if (next >= size) {
        throw new NoSuchElementException();
      }
      int i = next++;
      return new AbstractMap.SimpleImmutableEntry<>(convert(kv[2 * i]), convert(kv[2 * i + 1]));
    }

    @Override
    public void remove() {
      throw new UnsupportedOperationException("read only");
    }
  }

  @Override
  public HttpHeaders copy() {
    ArrayHeaders c = new ArrayHeaders(names, values, Math.max(initial, size));
    if (size > 0) {
      c.kv = Arrays.copyOf(kv, 2 * Math.max(initial, size));
      c.size = size;
    }
    return c;
  }

  /** Equal when both hold the same values (case-sensitive) under each name (any case). */
  @Override
  public boolean equals(@Nullable Object o) {
    if (o == this) {
      return true;
    }
    if (!(o instanceof ArrayHeaders a) || a.size != size) {
      return false;
    }
    for (int i = 0; i < size; i++) {
      CharSequence name = kv[2 * i];
      Iterator<CharSequence> x = valueCharSequenceIterator(name);
      Iterator<CharSequence> y = a.valueCharSequenceIterator(name);
      while (x.hasNext() && y.hasNext()) {
        if (!AsciiString.contentEquals(x.next(), y.next())) {
          return false;
        }
      }
      if (x.hasNext() || y.hasNext()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int h = 0;
    for (int i = 0; i < size; i++) {
      h += AsciiString.hashCode(kv[2 * i]) * 31 + AsciiString.hashCode(kv[2 * i + 1]);
    }
    return h;
  }
}
