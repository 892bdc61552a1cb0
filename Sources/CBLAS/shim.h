// OpenBLAS's CBLAS interface (Debian: libopenblas-dev).
#include <cblas.h>
// Thread control, so our own threads and OpenBLAS's pool never oversubscribe the cores.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
