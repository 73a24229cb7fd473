package control

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-storage/cairn/api/cairn/v1"
	"github.com/cairn-storage/cairn/fs"
)

// GetVolumeIO returns the data-path counters of the named volumes, or of
// every volume when none is named.
func (v volumesService) GetVolumeIO(ctx context.Context, r *cairnv1.GetVolumeIORequest) (*cairnv1.GetVolumeIOResponse, error) {
	infos, err := v.s.volumeInfos(ctx, r.GetNames())
	if err != nil {
		return nil, err
	}
	out := &cairnv1.GetVolumeIOResponse{Volumes: []*cairnv1.VolumeIO{}, Sampled: timestamppb.New(time.Now())}
	for _, info := range infos {
		out.Volumes = append(out.Volumes, volumeIOProto(info.Name, v.s.cfg.FS.IOStats(info.ID)))
	}
	return out, nil
}

// volumeInfos returns the named volumes, in order, or every volume when
// names is empty.
func (s *Server) volumeInfos(ctx context.Context, names []string) ([]fs.VolumeInfo, error) {
	if len(names) == 0 {
		return s.cfg.FS.ListVolumes(ctx)
	}
	infos := make([]fs.VolumeInfo, 0, len(names))
	for i, name := range names {
		if name == "" {
			return nil, errorf(codes.InvalidArgument, "names[%d] is empty", i)
		}
		info, err := s.cfg.FS.VolumeInfo(ctx, name)
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// volumeIOProto is the API form of a volume's counters.
func volumeIOProto(name string, st fs.IOStats) *cairnv1.VolumeIO {
	return &cairnv1.VolumeIO{
		Volume:       name,
		Reads:        st.Reads,
		Writes:       st.Writes,
		ReadBytes:    st.ReadBytes,
		WriteBytes:   st.WriteBytes,
		ReadSeconds:  st.ReadTime.Seconds(),
		WriteSeconds: st.WriteTime.Seconds(),
		Fsyncs:       st.Fsyncs,
	}
}
