<?php
/**
 * A small PHP wrapper over the misp-correlate C library, through PHP's FFI
 * extension (PHP >= 8.0, `ffi.enable=1` or the CLI).
 *
 * The declarations come from the library's generated header. PHP's
 * FFI::cdef does not run a preprocessor, so the header's preprocessor lines
 * (include guard, #include, version #defines, the extern "C" block for C++)
 * are dropped when it is loaded, by the same rule as the Python package.
 *
 * Every library call that fails throws a MispException carrying the result
 * code, its C name and the library's message. Strings the library returns
 * are copied into PHP strings and freed at once.
 *
 * SPDX-License-Identifier: AGPL-3.0-only
 */

declare(strict_types=1);

final class MispException extends RuntimeException
{
    public function __construct(public readonly int $result, public readonly string $resultName, string $message)
    {
        parent::__construct("$resultName: $message", $result);
    }
}

final class MispCorrelate
{
    public readonly FFI $ffi;

    /**
     * @param string $library path of libmisp_correlate_ffi.so
     * @param string $header  path of misp_correlate.h
     */
    public function __construct(string $library, string $header)
    {
        $text = file_get_contents($header);
        if ($text === false) {
            throw new RuntimeException("cannot read the header $header");
        }
        $this->ffi = FFI::cdef(self::cdefFromHeader($text), $library);
    }

    /** The header's declarations without preprocessor lines. */
    public static function cdefFromHeader(string $header): string
    {
        $kept = [];
        $inCplusplus = false;
        foreach (explode("\n", $header) as $line) {
            $stripped = trim($line);
            if ($inCplusplus) {
                if (str_starts_with($stripped, '#endif')) {
                    $inCplusplus = false;
                }
                continue;
            }
            if (str_starts_with($stripped, '#ifdef __cplusplus')) {
                $inCplusplus = true;
                continue;
            }
            if (str_starts_with($stripped, '#')) {
                continue;
            }
            $kept[] = $line;
        }
        return implode("\n", $kept);
    }

    /** The version of the loaded library. */
    public function version(): string
    {
        return $this->ffi->misp_version();
    }

    /** This thread's last error message. */
    public function lastError(): string
    {
        $size = $this->ffi->misp_last_error_len() + 1;
        $buf = $this->ffi->new("char[$size]");
        $written = $this->ffi->new('size_t');
        if ($this->ffi->misp_last_error($buf, $size, FFI::addr($written)) !== 0) {
            return '<the error message could not be read>';
        }
        return FFI::string($buf, $written->cdata);
    }

    /** Throws a MispException unless $result is MISP_OK. */
    public function check(int $result): void
    {
        if ($result !== $this->ffi->MISP_OK) {
            throw new MispException($result, $this->ffi->misp_result_name($result), $this->lastError());
        }
    }

    /**
     * Calls $call(...$args, &out, &out_len) and returns the library-owned
     * string it produced, freeing it.
     */
    public function callReturningString(string $function, mixed ...$args): string
    {
        $out = $this->ffi->new('char *');
        $outLen = $this->ffi->new('size_t');
        $this->check($this->ffi->$function(...$args, ...[FFI::addr($out), FFI::addr($outLen)]));
        try {
            return FFI::string($out, $outLen->cdata);
        } finally {
            $this->ffi->misp_string_free($out);
        }
    }

    /** A C array of misp_str over PHP strings (kept alive by the returned holder). */
    public function strList(array $items): array
    {
        $count = count($items);
        $array = $this->ffi->new('misp_str[' . max($count, 1) . ']');
        $buffers = [];
        foreach (array_values($items) as $i => $item) {
            $len = strlen($item);
            $buf = $this->ffi->new('char[' . max($len, 1) . ']', false);
            FFI::memcpy($buf, $item, $len);
            $buffers[] = $buf;
            $array[$i]->data = $buf;
            $array[$i]->len = $len;
        }
        return [$array, $count, $buffers];
    }

    /** Frees the buffers of a strList() holder. */
    public function freeStrList(array $holder): void
    {
        foreach ($holder[2] as $buf) {
            FFI::free($buf);
        }
    }

    /** $value as MISP stores an attribute of $type; throws MispException if MISP would refuse it. */
    public function normalize(string $type, string $value): string
    {
        return $this->callReturningString('misp_normalize', $type, strlen($type), $value, strlen($value));
    }

    /** What a MISP JSON document holds (misp-correlate load --json). */
    public function loadSummary(string $json): array
    {
        return json_decode($this->callReturningString('misp_load_summary', $json, strlen($json)), true, 512, JSON_THROW_ON_ERROR);
    }

    /** Decodes a JSON result. */
    private static function decode(string $json): array
    {
        return json_decode($json, true, 512, JSON_THROW_ON_ERROR);
    }

    /** Loads warninglists (0 = MISP-compatible; or MISP_WL_* flags). */
    public function warninglists(string $path, int $improvements = 0): MispWarninglists
    {
        $out = $this->ffi->new('misp_warninglists *');
        $this->check($this->ffi->misp_warninglists_load($path, strlen($path), $improvements, FFI::addr($out)));
        return new MispWarninglists($this, $out);
    }

    /** Opens warninglists saved by MispWarninglists::saveSnapshot (memory-mapped; $verify checks every byte). */
    public function warninglistsSnapshot(string $path, bool $verify = false): MispWarninglists
    {
        $out = $this->ffi->new('misp_warninglists *');
        $this->check($this->ffi->misp_warninglists_open_snapshot($path, strlen($path), $verify, FFI::addr($out)));
        return new MispWarninglists($this, $out);
    }

    /**
     * Builds an engine from MISP JSON files or directories.
     *
     * @param string[] $paths
     * @param int|null $limit over-correlation limit (null: none)
     */
    public function engine(array $paths, ?int $limit = 20, bool $advanced = false, array $exclusions = []): MispEngine
    {
        $builder = $this->ffi->new('misp_engine_builder *');
        $this->check($this->ffi->misp_engine_builder_new(FFI::addr($builder)));
        try {
            $this->check($this->ffi->misp_engine_builder_set_limit($builder, $limit ?? -1));
            $this->check($this->ffi->misp_engine_builder_set_advanced($builder, $advanced));
            foreach ($exclusions as $pattern) {
                $this->check($this->ffi->misp_engine_builder_add_exclusion($builder, $pattern, strlen($pattern)));
            }
            $list = $this->strList($paths);
            try {
                $this->check($this->ffi->misp_engine_builder_add_paths($builder, $list[0], $list[1]));
            } finally {
                $this->freeStrList($list);
            }
        } catch (Throwable $e) {
            $this->ffi->misp_engine_builder_free($builder);
            throw $e;
        }
        $engine = $this->ffi->new('misp_engine *');
        $this->check($this->ffi->misp_engine_builder_build($builder, FFI::addr($engine)));
        return new MispEngine($this, $engine);
    }

    /** @internal JSON result of $function(...$args, &out, &out_len), decoded. */
    public function callJson(string $function, mixed ...$args): array
    {
        return self::decode($this->callReturningString($function, ...$args));
    }
}

/** Compiled warninglists; freed when the object is destroyed. */
final class MispWarninglists
{
    public function __construct(private MispCorrelate $misp, private ?FFI\CData $handle)
    {
    }

    public function __destruct()
    {
        if ($this->handle !== null) {
            $this->misp->ffi->misp_warninglists_free($this->handle);
            $this->handle = null;
        }
    }

    /** The hits of one value: [['list' => …, 'list_type' => …, 'match' => …, 'value' => …], …]. */
    public function check(string $type, string $value): array
    {
        return $this->misp->callJson('misp_warninglists_check', $this->handle, $type, strlen($type), $value, strlen($value));
    }

    /**
     * The hits of many [type, value] pairs, in one call.
     *
     * @param array<array{0: string, 1: string}> $pairs
     */
    public function checkMany(array $pairs): array
    {
        $strings = '';
        $count = 2 * count($pairs);
        $lens = $this->misp->ffi->new('size_t[' . max($count, 1) . ']');
        $i = 0;
        foreach ($pairs as [$type, $value]) {
            $strings .= $type . $value;
            $lens[$i++] = strlen($type);
            $lens[$i++] = strlen($value);
        }
        return $this->misp->callJson('misp_warninglists_check_batch', $this->handle, $strings, strlen($strings), $lens, $count);
    }

    /** Saves the lists (custom lists and switches included) to a snapshot file, replaced atomically. */
    public function saveSnapshot(string $path): void
    {
        $this->misp->check($this->misp->ffi->misp_warninglists_save_snapshot($this->handle, $path, strlen($path)));
    }
}

/** A correlation engine; freed when the object is destroyed. */
final class MispEngine
{
    public function __construct(private MispCorrelate $misp, private ?FFI\CData $handle)
    {
    }

    public function __destruct()
    {
        if ($this->handle !== null) {
            $this->misp->ffi->misp_engine_free($this->handle);
            $this->handle = null;
        }
    }

    /** Counts: attributes, eligible, keys, exact, cidr, ssdeep, over_correlating, correlations. */
    public function summary(): array
    {
        return $this->misp->callJson('misp_engine_summary', $this->handle);
    }

    /**
     * Every correlation a viewer may see (default: a site admin), as
     * ['kind' => …, 'key' => …, 'a' => ['event' => …, 'attribute' => …], 'b' => …].
     */
    public function correlations(?string $org = null): array
    {
        $ffi = $this->misp->ffi;
        $viewer = $ffi->new('misp_viewer');
        $orgId = $ffi->new('misp_id');
        $orgText = null;
        if ($org === null) {
            $viewer->site_admin = true;
        } else {
            $orgText = $ffi->new('char[' . max(strlen($org), 1) . ']', false);
            FFI::memcpy($orgText, $org, strlen($org));
            $orgId->kind = $ffi->MISP_ID_STR;
            $orgId->str = $orgText;
            $orgId->str_len = strlen($org);
            $viewer->org = FFI::addr($orgId);
        }
        try {
            return $this->misp->callJson('misp_engine_correlations', $this->handle, FFI::addr($viewer));
        } finally {
            if ($orgText !== null) {
                FFI::free($orgText);
            }
        }
    }
}
