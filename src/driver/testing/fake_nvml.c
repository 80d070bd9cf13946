/* src/driver/testing/fake_nvml.c — a stand-in for libnvidia-ml.so.1 in tests.
 *
 * Exports the NVML functions tessera uses (../nvml_api.h) and answers as one "NVIDIA H100 80GB
 * HBM3" (PCI device 0x2330) with MIG disabled, the seven GPU-instance profiles NVML reports on that
 * GPU (driver 580; see docs mig-facts.md) and their placements, and no GPU instances.
 *
 * Environment variables, read by nvmlInit_v2:
 *   FAKE_NVML_FAIL_INIT=1              nvmlInit_v2 fails with NVML_ERROR_DRIVER_NOT_LOADED.
 *   FAKE_NVML_GPU_INSTANCES=9@0,19@4   MIG is enabled and these GPU instances (profile id @ start
 *                                      memory slice) exist, each with one full-size compute
 * instance. Not checked for legality.
 *
 * Writes: nvmlDeviceSetMigMode (refused with NVML_ERROR_IN_USE while GPU instances exist),
 * nvmlDeviceCreateGpuInstanceWithPlacement (checks the start, overlaps and max counts),
 * nvmlGpuInstanceCreateComputeInstance (the full-size profile only, once per GPU instance),
 * nvmlComputeInstanceDestroy, nvmlGpuInstanceDestroy (NVML_ERROR_IN_USE while it has a compute
 * instance) and nvmlDeviceGetGpuInstanceById.
 *
 * MIG devices: one per GPU instance with its compute instance, listed in slot order by
 * nvmlDeviceGetMigDeviceHandleByIndex; nvmlDeviceGetUUID of one is
 * "MIG-aaaaaaaa-bbbb-cccc-dddd-<GPU instance id, 12 digits>".
 *
 * Like NVML, every call but nvmlErrorString fails with NVML_ERROR_UNINITIALIZED before nvmlInit_v2.
 * Not thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nvml_api.h"

enum { kMaxStarts = 8, kMaxInstances = 8 };

typedef struct {
  unsigned int index; /* NVML_GPU_INSTANCE_PROFILE_* */
  unsigned int id;
  const char* name;
  unsigned int slices;
  unsigned int max_count;
  unsigned int sms;
  unsigned int copy_engines, decoders, jpegs, ofas;
  unsigned long long memory_mib;
  unsigned int size; /* memory slices */
  unsigned int starts[kMaxStarts];
  unsigned int start_count;
} FakeProfile;

/* H100 80GB HBM3: the table of mig-facts.md. No encoders on H100. */
static const FakeProfile kProfiles[] = {
    {0, 19, "MIG 1g.10gb", 1, 7, 16, 1, 1, 1, 0, 9984, 1, {0, 1, 2, 3, 4, 5, 6}, 7},
    {1, 14, "MIG 2g.20gb", 2, 3, 32, 2, 2, 2, 0, 20096, 2, {0, 2, 4}, 3},
    {2, 9, "MIG 3g.40gb", 3, 2, 60, 3, 3, 3, 0, 40448, 4, {0, 4}, 2},
    {3, 5, "MIG 4g.40gb", 4, 1, 64, 4, 4, 4, 0, 40448, 4, {0}, 1},
    {4, 0, "MIG 7g.80gb", 7, 1, 132, 8, 7, 7, 1, 81152, 8, {0}, 1},
    {7, 20, "MIG 1g.10gb+me", 1, 1, 16, 1, 1, 1, 1, 9984, 1, {0, 1, 2, 3, 4, 5, 6}, 7},
    {9, 15, "MIG 1g.20gb", 1, 4, 26, 1, 1, 1, 0, 20096, 2, {0, 2, 4, 6}, 4},
};
enum { kProfileCount = sizeof(kProfiles) / sizeof(kProfiles[0]) };

/* Compute slices of each compute-instance profile index (NVML_COMPUTE_INSTANCE_PROFILE_*). */
static const unsigned int kComputeProfileSlices[TESSERA_NVML_COMPUTE_INSTANCE_PROFILE_LIMIT] = {
    1, 2, 3, 4, 7, 8, 6, 1};

struct nvmlDevice_st {
  int unused;
};
struct nvmlGpuInstance_st {
  int used; /* slots are reused; a destroyed instance's slot is unused */
  int has_compute;
  unsigned int id;
  const FakeProfile* profile;
  unsigned int start;
};
struct nvmlComputeInstance_st {
  struct nvmlGpuInstance_st* gpu_instance;
};

static int g_init_count = 0;
static int g_mig_enabled = 0;
static struct nvmlDevice_st g_device;
static struct nvmlGpuInstance_st g_gpu_instances[kMaxInstances];
static struct nvmlComputeInstance_st g_compute_instances[kMaxInstances];
static struct nvmlDevice_st g_mig_devices[kMaxInstances]; /* slot i: GPU instance i's MIG device */
static unsigned int g_gpu_instance_count = 0; /* slots in use or used before */
static unsigned int g_next_id = 1;

static const FakeProfile* ProfileByIndex(unsigned int index) {
  for (int i = 0; i < kProfileCount; ++i) {
    if (kProfiles[i].index == index) return &kProfiles[i];
  }
  return NULL;
}

static const FakeProfile* ProfileById(unsigned int id) {
  for (int i = 0; i < kProfileCount; ++i) {
    if (kProfiles[i].id == id) return &kProfiles[i];
  }
  return NULL;
}

/* Parses FAKE_NVML_GPU_INSTANCES ("id@start,id@start"); 0 on a malformed value. */
static int ParseGpuInstances(const char* text) {
  g_gpu_instance_count = 0;
  while (*text != '\0') {
    char* end = NULL;
    unsigned long id = strtoul(text, &end, 10);
    if (end == text || *end != '@') return 0;
    text = end + 1;
    unsigned long start = strtoul(text, &end, 10);
    if (end == text || (*end != ',' && *end != '\0')) return 0;
    text = *end == ',' ? end + 1 : end;
    const FakeProfile* profile = ProfileById((unsigned int)id);
    if (profile == NULL || g_gpu_instance_count == kMaxInstances) return 0;
    struct nvmlGpuInstance_st* gi = &g_gpu_instances[g_gpu_instance_count];
    gi->used = 1;
    gi->has_compute = 1;
    gi->id = g_next_id++;
    gi->profile = profile;
    gi->start = (unsigned int)start;
    g_compute_instances[g_gpu_instance_count].gpu_instance = gi;
    ++g_gpu_instance_count;
  }
  return 1;
}

static int ValidDevice(nvmlDevice_t device) { return device == &g_device; }

static int ValidGpuInstance(nvmlGpuInstance_t gi) {
  for (unsigned int i = 0; i < g_gpu_instance_count; ++i) {
    if (gi == &g_gpu_instances[i] && gi->used) return 1;
  }
  return 0;
}

static int ValidComputeInstance(nvmlComputeInstance_t ci) {
  for (unsigned int i = 0; i < g_gpu_instance_count; ++i) {
    if (ci == &g_compute_instances[i])
      return g_gpu_instances[i].used && g_gpu_instances[i].has_compute;
  }
  return 0;
}

/* The compute-instance profile index (= id in this fake) that spans a whole GPU instance. */
static unsigned int FullComputeProfile(const struct nvmlGpuInstance_st* gi) {
  for (unsigned int i = 0; i < TESSERA_NVML_COMPUTE_INSTANCE_PROFILE_LIMIT; ++i) {
    if (kComputeProfileSlices[i] == gi->profile->slices) return i;
  }
  return 0;
}

static nvmlReturn_t CopyString(const char* value, char* out, unsigned int length) {
  if (out == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  if (strlen(value) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  strcpy(out, value);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit_v2(void) {
  const char* fail = getenv("FAKE_NVML_FAIL_INIT");
  if (fail != NULL && strcmp(fail, "1") == 0) return NVML_ERROR_DRIVER_NOT_LOADED;
  if (g_init_count == 0) {
    const char* instances = getenv("FAKE_NVML_GPU_INSTANCES");
    g_mig_enabled = instances != NULL;
    g_gpu_instance_count = 0;
    g_next_id = 1;
    if (instances != NULL && !ParseGpuInstances(instances)) return NVML_ERROR_UNKNOWN;
  }
  ++g_init_count;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void) {
  if (g_init_count == 0) return NVML_ERROR_UNINITIALIZED;
  --g_init_count;
  return NVML_SUCCESS;
}

const char* nvmlErrorString(nvmlReturn_t result) {
  switch (result) {
    case NVML_SUCCESS:
      return "Success";
    case NVML_ERROR_UNINITIALIZED:
      return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
      return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
      return "Not Supported";
    case NVML_ERROR_NO_PERMISSION:
      return "Insufficient Permissions";
    case NVML_ERROR_NOT_FOUND:
      return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE:
      return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED:
      return "Driver Not Loaded";
    case NVML_ERROR_GPU_IS_LOST:
      return "GPU is lost";
    case NVML_ERROR_IN_USE:
      return "In use by another client";
    case NVML_ERROR_INSUFFICIENT_RESOURCES:
      return "Insufficient resources";
    default:
      return "Unknown Error";
  }
}

#define REQUIRE_INIT() \
  if (g_init_count == 0) return NVML_ERROR_UNINITIALIZED
#define REQUIRE_DEVICE(device) \
  REQUIRE_INIT();              \
  if (!ValidDevice(device)) return NVML_ERROR_INVALID_ARGUMENT

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  REQUIRE_INIT();
  if (count == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *count = 1;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  REQUIRE_INIT();
  if (index != 0 || device == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *device = &g_device;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  REQUIRE_DEVICE(device);
  return CopyString("NVIDIA H100 80GB HBM3", name, length);
}

/* The slot of a MIG device handle whose GPU instance exists and has its compute instance, or -1. */
static int MigSlot(nvmlDevice_t device) {
  for (unsigned int i = 0; i < g_gpu_instance_count; ++i) {
    if (device == &g_mig_devices[i]) {
      return g_gpu_instances[i].used && g_gpu_instances[i].has_compute ? (int)i : -1;
    }
  }
  return -1;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length) {
  REQUIRE_INIT();
  int slot = MigSlot(device);
  if (slot >= 0) {
    char text[NVML_UUID_BUFFER_SIZE];
    unsigned int id = g_gpu_instances[slot].id;
    /* "MIG-" and a UUID whose last group is the GPU instance id, e.g. MIG-...-000000000002 */
    snprintf(text, sizeof(text), "MIG-aaaaaaaa-bbbb-cccc-dddd-%012u", id);
    return CopyString(text, uuid, length);
  }
  if (!ValidDevice(device)) return NVML_ERROR_INVALID_ARGUMENT;
  return CopyString("GPU-00000000-1111-2222-3333-444444444444", uuid, length);
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int* count) {
  REQUIRE_DEVICE(device);
  if (count == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *count = g_mig_enabled ? kMaxInstances : 0;
  return NVML_SUCCESS;
}

/* The index-th GPU instance (in slot order) that has a compute instance. */
nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index,
                                                 nvmlDevice_t* mig_device) {
  REQUIRE_DEVICE(device);
  if (mig_device == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  unsigned int seen = 0;
  for (unsigned int i = 0; i < g_gpu_instance_count; ++i) {
    if (!g_gpu_instances[i].used || !g_gpu_instances[i].has_compute) continue;
    if (seen++ == index) {
      *mig_device = &g_mig_devices[i];
      return NVML_SUCCESS;
    }
  }
  return NVML_ERROR_NOT_FOUND;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t device, unsigned int* id) {
  REQUIRE_INIT();
  int slot = MigSlot(device);
  if (slot < 0 || id == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *id = g_gpu_instances[slot].id;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t* pci) {
  REQUIRE_DEVICE(device);
  if (pci == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  memset(pci, 0, sizeof(*pci));
  strcpy(pci->busIdLegacy, "0000:19:00.0");
  pci->bus = 0x19;
  pci->pciDeviceId = 0x233010DEu;
  pci->pciSubSystemId = 0x16C110DEu;
  strcpy(pci->busId, "00000000:19:00.0");
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory) {
  REQUIRE_DEVICE(device);
  if (memory == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  memory->total = 81559ull << 20;
  memory->used = 0;
  memory->free = memory->total;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int* current_mode,
                                  unsigned int* pending_mode) {
  REQUIRE_DEVICE(device);
  if (current_mode == NULL || pending_mode == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *current_mode = g_mig_enabled ? NVML_DEVICE_MIG_ENABLE : NVML_DEVICE_MIG_DISABLE;
  *pending_mode = *current_mode;
  return NVML_SUCCESS;
}

/* Finds the profile at `index`: NOT_SUPPORTED for an index this GPU lacks, INVALID_ARGUMENT for
 * one NVML does not know. */
static nvmlReturn_t FindProfile(unsigned int index, const FakeProfile** profile) {
  if (index >= TESSERA_NVML_GPU_INSTANCE_PROFILE_LIMIT) return NVML_ERROR_INVALID_ARGUMENT;
  *profile = ProfileByIndex(index);
  return *profile == NULL ? NVML_ERROR_NOT_SUPPORTED : NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfo(nvmlDevice_t device, unsigned int profile_index,
                                                 nvmlGpuInstanceProfileInfo_t* info) {
  REQUIRE_DEVICE(device);
  if (info == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  const FakeProfile* p = NULL;
  nvmlReturn_t found = FindProfile(profile_index, &p);
  if (found != NVML_SUCCESS) return found;
  memset(info, 0, sizeof(*info));
  info->id = p->id;
  info->isP2pSupported = 1;
  info->sliceCount = p->slices;
  info->instanceCount = p->max_count;
  info->multiprocessorCount = p->sms;
  info->copyEngineCount = p->copy_engines;
  info->decoderCount = p->decoders;
  info->jpegCount = p->jpegs;
  info->ofaCount = p->ofas;
  info->memorySizeMB = p->memory_mib;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfoV(nvmlDevice_t device, unsigned int profile_index,
                                                  nvmlGpuInstanceProfileInfo_v2_t* info) {
  REQUIRE_DEVICE(device);
  if (info == NULL || info->version != TESSERA_NVML_GPU_INSTANCE_PROFILE_INFO_V2) {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  nvmlGpuInstanceProfileInfo_t v1;
  nvmlReturn_t result = nvmlDeviceGetGpuInstanceProfileInfo(device, profile_index, &v1);
  if (result != NVML_SUCCESS) return result;
  info->id = v1.id;
  info->isP2pSupported = v1.isP2pSupported;
  info->sliceCount = v1.sliceCount;
  info->instanceCount = v1.instanceCount;
  info->multiprocessorCount = v1.multiprocessorCount;
  info->copyEngineCount = v1.copyEngineCount;
  info->decoderCount = v1.decoderCount;
  info->encoderCount = v1.encoderCount;
  info->jpegCount = v1.jpegCount;
  info->ofaCount = v1.ofaCount;
  info->memorySizeMB = v1.memorySizeMB;
  return CopyString(ProfileByIndex(profile_index)->name, info->name, sizeof(info->name));
}

nvmlReturn_t nvmlDeviceGetGpuInstancePossiblePlacements_v2(nvmlDevice_t device,
                                                           unsigned int profile_id,
                                                           nvmlGpuInstancePlacement_t* placements,
                                                           unsigned int* count) {
  REQUIRE_DEVICE(device);
  if (count == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  const FakeProfile* p = ProfileById(profile_id);
  if (p == NULL) return NVML_ERROR_NOT_SUPPORTED;
  if (placements == NULL) {
    *count = p->start_count;
    return NVML_SUCCESS;
  }
  if (*count < p->start_count) return NVML_ERROR_INSUFFICIENT_SIZE;
  for (unsigned int i = 0; i < p->start_count; ++i) {
    placements[i].start = p->starts[i];
    placements[i].size = p->size;
  }
  *count = p->start_count;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstances(nvmlDevice_t device, unsigned int profile_id,
                                       nvmlGpuInstance_t* instances, unsigned int* count) {
  REQUIRE_DEVICE(device);
  if (!g_mig_enabled) return NVML_ERROR_NOT_SUPPORTED;
  const FakeProfile* p = ProfileById(profile_id);
  if (p == NULL || instances == NULL || count == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  unsigned int found = 0;
  for (unsigned int i = 0; i < g_gpu_instance_count; ++i) {
    if (!g_gpu_instances[i].used || g_gpu_instances[i].profile != p) continue;
    if (found == p->max_count) return NVML_ERROR_INSUFFICIENT_SIZE;
    instances[found++] = &g_gpu_instances[i];
  }
  *count = found;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpuInstanceGetInfo(nvmlGpuInstance_t instance, nvmlGpuInstanceInfo_t* info) {
  REQUIRE_INIT();
  if (!ValidGpuInstance(instance) || info == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  info->device = &g_device;
  info->id = instance->id;
  info->profileId = instance->profile->id;
  info->placement.start = instance->start;
  info->placement.size = instance->profile->size;
  return NVML_SUCCESS;
}

/* This fake's GPU instances offer two compute-instance profiles: one slice, and the whole instance.
 */
nvmlReturn_t nvmlGpuInstanceGetComputeInstanceProfileInfo(nvmlGpuInstance_t instance,
                                                          unsigned int profile_index,
                                                          unsigned int engine_profile,
                                                          nvmlComputeInstanceProfileInfo_t* info) {
  REQUIRE_INIT();
  if (!ValidGpuInstance(instance) || info == NULL ||
      engine_profile != NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED ||
      profile_index >= TESSERA_NVML_COMPUTE_INSTANCE_PROFILE_LIMIT) {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  unsigned int slices = kComputeProfileSlices[profile_index];
  unsigned int gi_slices = instance->profile->slices;
  if (profile_index > 4 || (slices != 1 && slices != gi_slices)) return NVML_ERROR_NOT_SUPPORTED;
  memset(info, 0, sizeof(*info));
  info->id = profile_index;
  info->sliceCount = slices;
  info->instanceCount = gi_slices / slices;
  info->multiprocessorCount = instance->profile->sms * slices / gi_slices;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpuInstanceGetComputeInstances(nvmlGpuInstance_t instance, unsigned int profile_id,
                                                nvmlComputeInstance_t* instances,
                                                unsigned int* count) {
  REQUIRE_INIT();
  if (!ValidGpuInstance(instance) || instances == NULL || count == NULL) {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  *count = 0;
  if (instance->has_compute && profile_id == FullComputeProfile(instance)) {
    instances[0] = &g_compute_instances[instance - g_gpu_instances];
    *count = 1;
  }
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlComputeInstanceGetInfo_v2(nvmlComputeInstance_t instance,
                                           nvmlComputeInstanceInfo_t* info) {
  REQUIRE_INIT();
  if (!ValidComputeInstance(instance) || info == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  info->device = &g_device;
  info->gpuInstance = instance->gpu_instance;
  info->id = 0;
  info->profileId = FullComputeProfile(instance->gpu_instance);
  info->placement.start = 0;
  info->placement.size = instance->gpu_instance->profile->slices;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceSetMigMode(nvmlDevice_t device, unsigned int mode,
                                  nvmlReturn_t* activation_status) {
  REQUIRE_DEVICE(device);
  if (activation_status == NULL || mode > NVML_DEVICE_MIG_ENABLE)
    return NVML_ERROR_INVALID_ARGUMENT;
  for (unsigned int i = 0; i < g_gpu_instance_count; ++i) {
    if (g_gpu_instances[i].used) return NVML_ERROR_IN_USE;
  }
  g_mig_enabled = mode == NVML_DEVICE_MIG_ENABLE;
  *activation_status = NVML_SUCCESS;
  return NVML_SUCCESS;
}

static int Overlaps(unsigned int start, unsigned int size, const struct nvmlGpuInstance_st* gi) {
  return start < gi->start + gi->profile->size && gi->start < start + size;
}

nvmlReturn_t nvmlDeviceCreateGpuInstanceWithPlacement(nvmlDevice_t device, unsigned int profile_id,
                                                      const nvmlGpuInstancePlacement_t* placement,
                                                      nvmlGpuInstance_t* gpu_instance) {
  REQUIRE_DEVICE(device);
  if (!g_mig_enabled) return NVML_ERROR_NOT_SUPPORTED;
  const FakeProfile* p = ProfileById(profile_id);
  if (p == NULL || placement == NULL || gpu_instance == NULL || placement->size != p->size) {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  int allowed = 0;
  for (unsigned int i = 0; i < p->start_count; ++i) allowed |= p->starts[i] == placement->start;
  if (!allowed) return NVML_ERROR_INVALID_ARGUMENT;
  unsigned int same = 0;
  struct nvmlGpuInstance_st* free_slot = NULL;
  for (unsigned int i = 0; i < kMaxInstances; ++i) {
    struct nvmlGpuInstance_st* gi = &g_gpu_instances[i];
    if (i >= g_gpu_instance_count || !gi->used) {
      if (free_slot == NULL) free_slot = gi;
      continue;
    }
    if (Overlaps(placement->start, placement->size, gi)) return NVML_ERROR_INSUFFICIENT_RESOURCES;
    same += gi->profile == p;
  }
  if (same >= p->max_count || free_slot == NULL) return NVML_ERROR_INSUFFICIENT_RESOURCES;
  unsigned int slot = (unsigned int)(free_slot - g_gpu_instances);
  if (slot >= g_gpu_instance_count) g_gpu_instance_count = slot + 1;
  free_slot->used = 1;
  free_slot->has_compute = 0;
  free_slot->id = g_next_id++;
  free_slot->profile = p;
  free_slot->start = placement->start;
  g_compute_instances[slot].gpu_instance = free_slot;
  *gpu_instance = free_slot;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceById(nvmlDevice_t device, unsigned int id,
                                          nvmlGpuInstance_t* gpu_instance) {
  REQUIRE_DEVICE(device);
  if (gpu_instance == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  if (!g_mig_enabled) return NVML_ERROR_NOT_SUPPORTED;
  for (unsigned int i = 0; i < g_gpu_instance_count; ++i) {
    if (g_gpu_instances[i].used && g_gpu_instances[i].id == id) {
      *gpu_instance = &g_gpu_instances[i];
      return NVML_SUCCESS;
    }
  }
  return NVML_ERROR_NOT_FOUND;
}

nvmlReturn_t nvmlGpuInstanceDestroy(nvmlGpuInstance_t gpu_instance) {
  REQUIRE_INIT();
  if (!ValidGpuInstance(gpu_instance)) return NVML_ERROR_INVALID_ARGUMENT;
  if (gpu_instance->has_compute) return NVML_ERROR_IN_USE;
  gpu_instance->used = 0;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpuInstanceCreateComputeInstance(nvmlGpuInstance_t gpu_instance,
                                                  unsigned int profile_id,
                                                  nvmlComputeInstance_t* compute_instance) {
  REQUIRE_INIT();
  if (!ValidGpuInstance(gpu_instance) || compute_instance == NULL) {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  if (profile_id != FullComputeProfile(gpu_instance)) return NVML_ERROR_NOT_SUPPORTED;
  if (gpu_instance->has_compute) return NVML_ERROR_INSUFFICIENT_RESOURCES;
  gpu_instance->has_compute = 1;
  *compute_instance = &g_compute_instances[gpu_instance - g_gpu_instances];
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlComputeInstanceDestroy(nvmlComputeInstance_t compute_instance) {
  REQUIRE_INIT();
  if (!ValidComputeInstance(compute_instance)) return NVML_ERROR_INVALID_ARGUMENT;
  compute_instance->gpu_instance->has_compute = 0;
  return NVML_SUCCESS;
}
