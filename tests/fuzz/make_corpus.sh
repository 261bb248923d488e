#!/bin/sh
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Regenerates the JWT seed corpus (tests/fuzz/corpus/jwt) with
# tests/tools/jwt_mint, from the secrets, time and public keys that
# fuzz_jwt.c embeds, so the seeds and the target cannot drift apart. Seeds
# jwt_mint cannot express (duplicate names, a header without typ, text
# that is no JSON) are signed here with openssl. Each seed is one case;
# fuzz_jwt.c lists what each must produce.
#
#   tests/fuzz/make_corpus.sh [KEYDIR]            regenerate the seeds
#   tests/fuzz/make_corpus.sh --new-keys [KEYDIR] make a new key pair
#
# The RS256/ES256 seeds need the private keys, which are not in the
# repository. KEYDIR (default /tmp/paa-fuzz-keys) holds them as
# rsa_private.pem and ec_private.pem. Without them those few seeds are
# left as they are (frozen) and everything else is regenerated. To replace
# the keys: run with --new-keys, paste the printed C text over
# rsa_public_pem and ec_public_pem in fuzz_jwt.c, then run again without
# it.
#
# JWT_MINT names the tool (default: tests/tools/jwt_mint in the build
# tree, PAA_BUILDDIR or the source tree; build it with
# "make tests/tools/jwt_mint").

set -eu

new_keys=no
if [ "${1:-}" = --new-keys ]; then
    new_keys=yes
    shift
fi
keydir=${1:-/tmp/paa-fuzz-keys}

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
target=$here/fuzz_jwt.c
out=$here/corpus/jwt
mint=${JWT_MINT:-${PAA_BUILDDIR:-$top}/tests/tools/jwt_mint}

die() {
    echo "make_corpus.sh: $*" >&2
    exit 1
}

[ -x "$mint" ] || die "no $mint (make tests/tools/jwt_mint, or set JWT_MINT)"
command -v openssl >/dev/null || die "openssl is required"

# The C text for a PEM file, in the layout fuzz_jwt.c uses.
pem_to_c() {
    printf 'static const char %s[] =\n' "$1"
    sed 's/.*/    "&\\n"/; $s/$/;/' "$2"
}

if [ $new_keys = yes ]; then
    mkdir -p "$keydir"
    chmod 700 "$keydir"
    "$mint" genkey rsa "$keydir/rsa_private.pem" "$keydir/rsa_public.pem"
    "$mint" genkey ec "$keydir/ec_private.pem" "$keydir/ec_public.pem"
    echo "New key pairs in $keydir. Paste into $target:"
    echo
    pem_to_c rsa_public_pem "$keydir/rsa_public.pem"
    echo
    pem_to_c ec_public_pem "$keydir/ec_public.pem"
    echo
    echo "then run $0 $keydir"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- what fuzz_jwt.c embeds
define() {
    sed -n "s/^#define $1 *\(.*\)$/\1/p" "$target" | sed 's/^"//; s/"$//'
}
c_pem() {
    sed -n "/^static const char $1\[\] =/,/;\$/p" "$target" |
        sed -n 's/^ *"\(.*\)\\n";\{0,1\}$/\1/p'
}
SECRET=$(define FUZZ_HS_SECRET)
PREVIOUS=$(define FUZZ_HS_PREVIOUS)
ISSUER=$(define FUZZ_ISSUER)
AUDIENCE=$(define FUZZ_AUDIENCE)
NOW=$(define FUZZ_NOW | grep -o "[0-9]\{9,\}")
if [ -z "$SECRET" ] || [ -z "$PREVIOUS" ] || [ -z "$NOW" ]; then
    die "cannot read the settings from $target"
fi
EXP=$((NOW + 3600))
c_pem rsa_public_pem >"$tmp/rsa_public.pem"
c_pem ec_public_pem >"$tmp/ec_public.pem"
openssl pkey -pubin -in "$tmp/rsa_public.pem" -noout 2>/dev/null ||
    die "cannot read rsa_public_pem from $target"
openssl pkey -pubin -in "$tmp/ec_public.pem" -noout 2>/dev/null ||
    die "cannot read ec_public_pem from $target"

have_keys=no
if [ -r "$keydir/rsa_private.pem" ] && [ -r "$keydir/ec_private.pem" ]; then
    for k in rsa ec; do
        openssl pkey -in "$keydir/${k}_private.pem" -pubout >"$tmp/$k.derived"
        cmp -s "$tmp/$k.derived" "$tmp/${k}_public.pem" ||
            die "$keydir/${k}_private.pem does not match ${k}_public_pem in" \
                "$target (use --new-keys to replace both)"
    done
    have_keys=yes
fi

# ---- building blocks
b64url() {
    openssl base64 -A | tr '+/' '-_' | tr -d '='
}

# The standard claims, with changes: NAME=JSON sets or adds a claim,
# NAME=- removes one. Order is fixed so the output is reproducible.
# shellcheck disable=SC2034 # the claims are read through eval
payload() {
    sub='"usr_00000000000000aa"' username='"fuzz"' roles='["admin"]'
    iss="\"$ISSUER\"" aud="\"$AUDIENCE\"" iat=$NOW nbf=$NOW exp=$EXP
    jti='"seed"' extra=
    for kv in "$@"; do
        k=${kv%%=*} v=${kv#*=}
        case $k in
        sub | username | roles | iss | aud | iat | nbf | exp | jti)
            eval "$k=\$v"
            ;;
        *) extra="$extra,\"$k\":$v" ;;
        esac
    done
    all=
    for k in sub username roles iss aud iat nbf exp jti; do
        eval "v=\$$k"
        [ "$v" = - ] || all="$all,\"$k\":$v"
    done
    all="$all$extra"
    printf '{%s}' "${all#,}"
}

# hs [--header JSON] [jwt_mint options] PAYLOAD: HS256 with the secret.
hs() {
    "$mint" sign --alg HS256 --key "$SECRET" "$@"
}

# raw HEADER PAYLOAD [KEY]: HMAC-SHA256 over texts used byte for byte.
raw() {
    h=$(printf '%s' "$1" | b64url)
    p=$(printf '%s' "$2" | b64url)
    s=$(printf '%s.%s' "$h" "$p" |
        openssl dgst -sha256 -mac HMAC -macopt "key:${3:-$SECRET}" -binary |
        b64url)
    printf '%s.%s.%s' "$h" "$p" "$s"
}

# put NAME TEXT: one seed, no trailing newline.
put() {
    printf '%s' "$2" >"$out/$1"
}

mkdir -p "$out"
P=$(payload)

# ---- accepted
valid=$(hs --payload "$P")
put valid_hs256.jwt "$valid"
put valid_hs256_previous_key.jwt \
    "$("$mint" sign --alg HS256 --key "$PREVIOUS" --payload "$P")"
put valid_hs256_aud_array.jwt \
    "$(hs --payload "$(payload aud="[\"other\",\"$AUDIENCE\"]")")"
put valid_hs256_typ_at_jwt.jwt "$(hs --header '{"typ":"at+jwt"}' --payload "$P")"
put valid_hs256_no_typ.jwt "$(raw '{"alg":"HS256"}' "$P")"
put valid_hs256_within_leeway.jwt \
    "$(hs --payload "$(payload exp=$((NOW - 20)) iat=$((NOW - 3620)) \
        nbf=$((NOW + 20)))")"
put valid_hs256_real_exp.jwt "$(hs --payload "$(payload exp="$EXP.5")")"
put valid_hs256_minimal.jwt \
    "$(hs --payload "$(payload username=- roles=- iat=- nbf=- jti=-)")"
put valid_hs256_unicode_sub.jwt \
    "$(hs --payload "$(payload sub='"\u00e9l\u00e8ve \ud83d\udd11"')")"

# ---- algorithm confusion (RFC 8725 2.1, 3.1)
put alg_none.jwt "$("$mint" sign --alg none --payload "$P")"
put alg_none_uppercase.jwt "$(raw '{"alg":"NONE","typ":"JWT"}' "$P")"
put alg_lowercase_hs256.jwt "$(raw '{"alg":"hs256","typ":"JWT"}' "$P")"
put alg_missing.jwt "$(raw '{"typ":"JWT"}' "$P")"
put alg_not_string.jwt "$(raw '{"alg":["HS256"],"typ":"JWT"}' "$P")"
put alg_with_nul_escape.jwt "$(raw '{"alg":"HS256\u0000","typ":"JWT"}' "$P")"
put hs384_against_hs256.jwt \
    "$("$mint" sign --alg HS384 --key "$SECRET" --payload "$P")"
put hs512_against_hs256.jwt \
    "$("$mint" sign --alg HS512 --key "$SECRET" --payload "$P")"
put rs256_pubkey_as_hmac.jwt \
    "$("$mint" sign --alg HS256 --key-file "$tmp/rsa_public.pem" --payload "$P")"
put rs256_header_hmac_signature.jwt \
    "$("$mint" sign --alg HS256 --header '{"alg":"RS256"}' \
        --key-file "$tmp/rsa_public.pem" --payload "$P")"
put es256_pubkey_as_hmac.jwt \
    "$("$mint" sign --alg HS256 --key-file "$tmp/ec_public.pem" --payload "$P")"
put es256_header_hmac_signature.jwt \
    "$("$mint" sign --alg HS256 --header '{"alg":"ES256"}' \
        --key-file "$tmp/ec_public.pem" --payload "$P")"
put duplicate_header_alg.jwt "$(raw '{"alg":"none","alg":"HS256"}' "$P")"

# ---- RS256 / ES256 (need the private keys; frozen otherwise)
if [ $have_keys = yes ]; then
    put valid_rs256.jwt "$("$mint" sign --alg RS256 \
        --key-file "$keydir/rsa_private.pem" --payload "$P")"
    put valid_es256.jwt "$("$mint" sign --alg ES256 \
        --key-file "$keydir/ec_private.pem" --payload "$P")"
    # ECDSA as OpenSSL emits it (DER), not JWS R||S (RFC 7518 3.4).
    h=$(printf '{"alg":"ES256","typ":"JWT"}' | b64url)
    p=$(printf '%s' "$P" | b64url)
    s=$(printf '%s.%s' "$h" "$p" |
        openssl dgst -sha256 -sign "$keydir/ec_private.pem" -binary | b64url)
    put es256_der_signature.jwt "$h.$p.$s"
else
    echo "make_corpus.sh: no private keys in $keydir: valid_rs256.jwt," \
        "valid_es256.jwt and es256_der_signature.jwt left as they are" >&2
fi
for k in rs256 es256; do
    [ -r "$out/valid_$k.jwt" ] || die "no $out/valid_$k.jwt and no keys"
done
rs=$(cat "$out/valid_rs256.jwt")
es=$(cat "$out/valid_es256.jwt")
put rs256_tampered_payload.jwt "$("$mint" tamper "$rs")"
put es256_tampered_payload.jwt "$("$mint" tamper "$es")"
put es256_truncated_signature.jwt "${es%.*}.$(printf '%s' "${es##*.}" |
    cut -c1-40)"

# ---- signature
put tampered_payload.jwt "$("$mint" tamper "$valid")"
sig=${valid##*.}
last=$(printf '%s' "$sig" | cut -c${#sig})
case $last in A) flip=B ;; *) flip=A ;; esac
put tampered_signature.jwt "${valid%?}$flip"
put unsigned_hs256.jwt "${valid%.*}."
put signature_from_other_token.jwt \
    "$(printf '%s' "$(hs --payload "$(payload sub='"attacker"')")" |
        cut -d. -f1,2).$sig"

# ---- time claims
put expired.jwt "$(hs --payload "$(payload exp=$((NOW - 3600)) \
    iat=$((NOW - 7200)) nbf=$((NOW - 7200)))")"
put expired_beyond_leeway.jwt "$(hs --payload "$(payload exp=$((NOW - 31)) \
    iat=$((NOW - 3631)) nbf=$((NOW - 3631)))")"
put future_nbf.jwt "$(hs --payload "$(payload nbf=$((NOW + 3600)))")"
put future_iat.jwt "$(hs --payload "$(payload iat=$((NOW + 3600)))")"
put no_exp.jwt "$(hs --payload "$(payload exp=-)")"
put exp_string.jwt "$(hs --payload "$(payload exp="\"$EXP\"")")"
put exp_null.jwt "$(hs --payload "$(payload exp=null)")"
put nbf_string.jwt "$(hs --payload "$(payload nbf="\"$NOW\"")")"
put iat_string.jwt "$(hs --payload "$(payload iat="\"$NOW\"")")"

# ---- issuer, audience, subject, roles
put wrong_iss.jwt "$(hs --payload "$(payload iss='"https://evil.test"')")"
put no_iss.jwt "$(hs --payload "$(payload iss=-)")"
put wrong_aud.jwt "$(hs --payload "$(payload aud='"other"')")"
put aud_array_without_ours.jwt \
    "$(hs --payload "$(payload aud='["other","paa"]')")"
put no_aud.jwt "$(hs --payload "$(payload aud=-)")"
put no_sub.jwt "$(hs --payload "$(payload sub=-)")"
put empty_sub.jwt "$(hs --payload "$(payload sub='""')")"
put sub_number.jwt "$(hs --payload "$(payload sub=42)")"
put roles_not_array.jwt "$(hs --payload "$(payload roles='"admin"')")"
put roles_non_string.jwt "$(hs --payload "$(payload roles='["admin",1]')")"
put duplicate_claims.jwt \
    "$(raw '{"alg":"HS256","typ":"JWT"}' \
        "$(payload sub='"usr_00000000000000aa","sub":"usr_00000000000000bb"')")"

# ---- header
put crit_header.jwt "$(hs --header '{"crit":["exp"],"exp":1}' --payload "$P")"
put typ_foreign.jwt "$(hs --header '{"typ":"JOSE"}' --payload "$P")"
put typ_not_string.jwt "$(hs --header '{"typ":1}' --payload "$P")"
put non_object_header.jwt "$(raw '["HS256"]' "$P")"
put header_not_json.jwt "$(raw 'alg=HS256' "$P")"
put non_object_payload.jwt "$(hs --payload '["usr_00000000000000aa"]')"
put payload_not_json.jwt "$(raw '{"alg":"HS256","typ":"JWT"}' 'sub=usr_1')"

# ---- shape and size (PAA_JWT_MAX_LEN is 8192)
: >"$out/empty"
put two_dots_only ..
put one_part "${valid%%.*}"
put four_parts.jwt "$valid.$sig"
put bad_base64_char.jwt "$(printf '%s' "$valid" | sed 's/^\(.\{5\}\)./\1+/')"
put base64_padding.jwt "${valid%%.*}.${valid#*.}="
put header_length_mod4_1.jwt "${valid%%.*}A.${valid#*.}"
put whitespace_in_token.jwt "${valid%%.*}. ${valid#*.}"
put trailing_newline.jwt "$valid
"
put bearer_prefix.jwt "Bearer $valid"
kid=$(head -c 6600 /dev/zero | tr '\0' k)
put huge_header.jwt "$(hs --header "{\"kid\":\"$kid\"}" --payload "$P")"
# The largest padding that keeps the token within the limit, and one more.
pad=$(head -c 6200 /dev/zero | tr '\0' x)
while :; do
    t=$(hs --payload "$(payload pad="\"$pad\"")")
    [ ${#t} -le 8192 ] && break
    pad=${pad%x}
done
put near_max_len_valid.jwt "$t"
put over_max_len.jwt "$(hs --payload "$(payload pad="\"${pad}xxxx\"")")"

# ---- JSON mode: "HEADER\nPAYLOAD", signed by the target itself
json() {
    printf '%s\n%s' "$2" "$3" >"$out/$1"
}
json json_valid '{"alg":"HS256","typ":"JWT"}' "$P"
json json_alg_none '{"alg":"none"}' "$P"
json json_no_typ_many_roles '{"alg":"HS256"}' \
    "$(payload roles='["admin","ops","a.b:c-d_e","","admin"]')"
json json_aud_array '{"alg":"HS256"}' \
    "$(payload aud="[1,null,\"$AUDIENCE\"]")"
json json_real_times '{"alg":"HS256"}' \
    "$(payload exp="$EXP.999" iat="$NOW.5" nbf="$((NOW + 30)).9")"
json json_nbf_beyond_leeway '{"alg":"HS256"}' "$(payload nbf=$((NOW + 31)))"
json json_duplicate_sub '{"alg":"HS256"}' \
    "$(payload sub='"usr_00000000000000aa","sub":"usr_00000000000000bb"')"
json json_payload_array '{"alg":"HS256"}' '[{"sub":"x"}]'
json json_header_only '{"alg":"HS256"}' ''

echo "make_corpus.sh: $(find "$out" -type f | wc -l) seeds in $out"
