/* Test aid for running probe.exe under Wine 8; never shipped. Wine 8 has no
 * bcryptprimitives.dll, from which Rust's standard library takes ProcessPrng (Windows 10 and
 * later have it). This stand-in exports ProcessPrng over RtlGenRandom (advapi32's
 * SystemFunction036), which Wine has. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
