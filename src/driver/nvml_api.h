/* src/driver/nvml_api.h — the few NVML declarations tessera uses (internal; C and C++).
 *
 * tessera does not build against NVIDIA's nvml.h: libnvidia-ml.so.1 is loaded at run time (see
 * nvml_driver.cc) and only these types, constants and functions are declared. Layouts follow NVML
 * API version 12 (nvml.h of CUDA 12/13) and are checked by the static assertions in nvml_driver.cc.
 * The fake NVML of the tests (testing/fake_nvml.c) implements the same prototypes.
 *
 * The prototypes are never linked against: nvml_driver.cc only takes their types
 * (decltype(&nvmlInit_v2)) for the pointers it resolves with dlsym.
 */
#ifndef TESSERA_SRC_DRIVER_NVML_API_H_
#define TESSERA_SRC_DRIVER_NVML_API_H_

#ifdef __cplusplus
extern "C" {
#endif

/* nvmlReturn_t is a C enum in nvml.h, which is int-sized. */
typedef int nvmlReturn_t;
enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_NO_PERMISSION = 4,
  NVML_ERROR_NOT_FOUND = 6,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
  NVML_ERROR_DRIVER_NOT_LOADED = 9,
  NVML_ERROR_GPU_IS_LOST = 15,
  NVML_ERROR_IN_USE = 19,
  NVML_ERROR_INSUFFICIENT_RESOURCES = 23,
  NVML_ERROR_UNKNOWN = 999,
};

/* Buffer sizes large enough for any NVML version (the _V2 sizes). */
enum {
  NVML_NAME_BUFFER_SIZE = 96,
  NVML_UUID_BUFFER_SIZE = 96,
  NVML_PCI_BUS_ID_LEGACY_SIZE = 16,
  NVML_PCI_BUS_ID_SIZE = 32,
};

/* nvmlDeviceGetMigMode's answers. */
enum { NVML_DEVICE_MIG_DISABLE = 0, NVML_DEVICE_MIG_ENABLE = 1 };

/* GPU-instance profile indices (NVML_GPU_INSTANCE_PROFILE_*) run from 0 to the count below
 * (exclusive); NVML 12.9 knows 17. A driver answers NOT_SUPPORTED for an index its GPU lacks and
 * INVALID_ARGUMENT for one it does not know, so asking for more is harmless. */
enum { TESSERA_NVML_GPU_INSTANCE_PROFILE_LIMIT = 17 };

/* Compute-instance profile indices (NVML_COMPUTE_INSTANCE_PROFILE_*): 1, 2, 3, 4, 7, 8, 6 slices
 * and 1 slice rev1; and the shared engine profile. */
enum {
  TESSERA_NVML_COMPUTE_INSTANCE_PROFILE_LIMIT = 8,
  NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED = 0,
};

typedef struct nvmlDevice_st* nvmlDevice_t;
typedef struct nvmlGpuInstance_st* nvmlGpuInstance_t;
typedef struct nvmlComputeInstance_st* nvmlComputeInstance_t;

typedef struct {
  char busIdLegacy[NVML_PCI_BUS_ID_LEGACY_SIZE];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId; /* device id << 16 | vendor id (0x10DE) */
  unsigned int pciSubSystemId;
  char busId[NVML_PCI_BUS_ID_SIZE]; /* "00000000:19:00.0" */
} nvmlPciInfo_t;

typedef struct {
  unsigned long long total; /* bytes */
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_t;

typedef struct {
  unsigned int start; /* first memory slice */
  unsigned int size;  /* memory slices */
} nvmlGpuInstancePlacement_t;

typedef struct {
  unsigned int id;
  unsigned int isP2pSupported;
  unsigned int sliceCount; /* compute slices */
  unsigned int instanceCount;
  unsigned int multiprocessorCount;
  unsigned int copyEngineCount;
  unsigned int decoderCount;
  unsigned int encoderCount;
  unsigned int jpegCount;
  unsigned int ofaCount;
  unsigned long long memorySizeMB; /* MiB */
} nvmlGpuInstanceProfileInfo_t;

/* Version 2 of the profile info: a version word first and the profile's name ("MIG 1g.10gb") last.
 */
typedef struct {
  unsigned int version; /* TESSERA_NVML_GPU_INSTANCE_PROFILE_INFO_V2 */
  unsigned int id;
  unsigned int isP2pSupported;
  unsigned int sliceCount;
  unsigned int instanceCount;
  unsigned int multiprocessorCount;
  unsigned int copyEngineCount;
  unsigned int decoderCount;
  unsigned int encoderCount;
  unsigned int jpegCount;
  unsigned int ofaCount;
  unsigned long long memorySizeMB;
  char name[NVML_NAME_BUFFER_SIZE];
} nvmlGpuInstanceProfileInfo_v2_t;

/* NVML's struct version word: the struct's size, and the version in the top byte. */
#define TESSERA_NVML_GPU_INSTANCE_PROFILE_INFO_V2 \
  ((unsigned int)sizeof(nvmlGpuInstanceProfileInfo_v2_t) | (2u << 24))

typedef struct {
  nvmlDevice_t device;
  unsigned int id;
  unsigned int profileId;
  nvmlGpuInstancePlacement_t placement;
} nvmlGpuInstanceInfo_t;

typedef struct {
  unsigned int id;
  unsigned int sliceCount;
  unsigned int instanceCount;
  unsigned int multiprocessorCount;
  unsigned int sharedCopyEngineCount;
  unsigned int sharedDecoderCount;
  unsigned int sharedEncoderCount;
  unsigned int sharedJpegCount;
  unsigned int sharedOfaCount;
} nvmlComputeInstanceProfileInfo_t;

typedef struct {
  unsigned int start; /* first compute slice within the GPU instance */
  unsigned int size;
} nvmlComputeInstancePlacement_t;

typedef struct {
  nvmlDevice_t device;
  nvmlGpuInstance_t gpuInstance;
  unsigned int id;
  unsigned int profileId;
  nvmlComputeInstancePlacement_t placement;
} nvmlComputeInstanceInfo_t;

nvmlReturn_t nvmlInit_v2(void);
nvmlReturn_t nvmlShutdown(void);
const char* nvmlErrorString(nvmlReturn_t result);
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count);
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device);
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length);
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length);
nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t* pci);
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory);
nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int* current_mode,
                                  unsigned int* pending_mode);
nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfo(nvmlDevice_t device, unsigned int profile_index,
                                                 nvmlGpuInstanceProfileInfo_t* info);
/* Optional: missing from drivers older than NVML 11.4. */
nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfoV(nvmlDevice_t device, unsigned int profile_index,
                                                  nvmlGpuInstanceProfileInfo_v2_t* info);
/* `placements` may be NULL to ask for the count only. */
nvmlReturn_t nvmlDeviceGetGpuInstancePossiblePlacements_v2(nvmlDevice_t device,
                                                           unsigned int profile_id,
                                                           nvmlGpuInstancePlacement_t* placements,
                                                           unsigned int* count);
nvmlReturn_t nvmlDeviceGetGpuInstances(nvmlDevice_t device, unsigned int profile_id,
                                       nvmlGpuInstance_t* instances, unsigned int* count);
nvmlReturn_t nvmlGpuInstanceGetInfo(nvmlGpuInstance_t instance, nvmlGpuInstanceInfo_t* info);
nvmlReturn_t nvmlGpuInstanceGetComputeInstanceProfileInfo(nvmlGpuInstance_t instance,
                                                          unsigned int profile_index,
                                                          unsigned int engine_profile,
                                                          nvmlComputeInstanceProfileInfo_t* info);
nvmlReturn_t nvmlGpuInstanceGetComputeInstances(nvmlGpuInstance_t instance, unsigned int profile_id,
                                                nvmlComputeInstance_t* instances,
                                                unsigned int* count);
nvmlReturn_t nvmlComputeInstanceGetInfo_v2(nvmlComputeInstance_t instance,
                                           nvmlComputeInstanceInfo_t* info);

/* MIG devices (the CUDA devices of compute instances). Optional: without them GPU instances are
 * listed without their MIG device UUIDs. */
nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int* count);
nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index,
                                                 nvmlDevice_t* mig_device);
nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t device, unsigned int* id);

/* Writes (privileged). Optional for tessera: a library without them can still be read. */
nvmlReturn_t nvmlDeviceSetMigMode(nvmlDevice_t device, unsigned int mode,
                                  nvmlReturn_t* activation_status);
nvmlReturn_t nvmlDeviceCreateGpuInstanceWithPlacement(nvmlDevice_t device, unsigned int profile_id,
                                                      const nvmlGpuInstancePlacement_t* placement,
                                                      nvmlGpuInstance_t* gpu_instance);
nvmlReturn_t nvmlDeviceGetGpuInstanceById(nvmlDevice_t device, unsigned int id,
                                          nvmlGpuInstance_t* gpu_instance);
nvmlReturn_t nvmlGpuInstanceDestroy(nvmlGpuInstance_t gpu_instance);
nvmlReturn_t nvmlGpuInstanceCreateComputeInstance(nvmlGpuInstance_t gpu_instance,
                                                  unsigned int profile_id,
                                                  nvmlComputeInstance_t* compute_instance);
nvmlReturn_t nvmlComputeInstanceDestroy(nvmlComputeInstance_t compute_instance);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TESSERA_SRC_DRIVER_NVML_API_H_ */
