/*-------------------------------------------------------------------------
 *
 * vshint.c
 *	  Storage for the search-depth hint and the key-rejection counter
 *	  (see vshint.h).
 *
 * Design: backend-local integers; a scan reads the hint synchronously
 * inside index_rescan and adds to the counter inside amgettuple, so no
 * other state is needed.
 *
 * IDENTIFICATION
 *	  src/common/vshint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/vshint.h"

int			VsScanRowsHint = 0;
double		VsScanPassHint = 0;
int			VsScanProbeHint = 0;
int			VsScanFirstWindow = 0;
int64		VsScanKeyRejected = 0;
int64		VsScanBatches = 0;
double		VsScanLastDistance = 0;
VsScanRejectFn VsScanRejectCheck = NULL;
void	   *VsScanRejectArg = NULL;
bool		VsScanAbandoned = false;

bool
VsScanKeyReject(void)
{
	VsScanKeyRejected++;
	if (VsScanRejectCheck != NULL &&
		VsScanKeyRejected % VS_REJECT_CHECK_EVERY == 0 &&
		VsScanRejectCheck(VsScanRejectArg))
	{
		VsScanAbandoned = true;
		return true;
	}
	return false;
}
